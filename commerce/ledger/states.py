"""The kinds of the books: which accounts exist, and what caused an entry."""

from __future__ import annotations

from enum import StrEnum


class AccountKind(StrEnum):
    """Each account is one kind, with an owner for the per-person kinds.

    Amounts are signed: a debit is positive, a credit negative, so an entry's postings sum to
    zero and an account's balance is the sum of its postings. The platform's money at WeChat
    Pay is a debit balance; what it owes to people (merchants, payees, shoppers) is a credit
    balance, shown to them as a positive amount owed.
    """

    CLEARING = "clearing"  # the platform's money at WeChat Pay (an asset)
    PLATFORM_COMMISSION = "platform_commission"  # the platform's commission earned (revenue)
    # WeChat Pay's fees: charged to merchants at payment (credit), paid to WeChat Pay as its
    # bills say (debit); what is left is the rounding between the two.
    PAYMENT_FEES = "payment_fees"
    # What the platform gives of its own (a goodwill credit, a correction): an expense.
    PLATFORM_ADJUSTMENTS = "platform_adjustments"
    MERCHANT_PAYABLE = "merchant_payable"  # owed to a merchant (owner: merchant id)
    # Owed to a person who may withdraw it to their WeChat balance (owner: user id); leaders'
    # and KOLs' commissions land here once earned. Never a debit balance.
    PAYEE_PAYABLE = "payee_payable"
    PAYOUTS_IN_TRANSIT = "payouts_in_transit"  # withdrawn, not yet confirmed paid by WeChat Pay
    # Money that arrived for an order that could not take it, until its refund succeeds.
    REFUNDS_DUE = "refunds_due"
    # A community leader's commission accrued at payment and not earned yet (owner: the
    # leader's user id): not withdrawable; moves to payee_payable once the order's after-sales
    # window has passed, back to the platform in proportion to refunds. Never a debit balance.
    LEADER_PENDING = "leader_pending"
    # A KOL's commission accrued at payment and not earned yet (owner: the KOL's user id); held
    # there too while a fraud flag is reviewed. Moves to payee_payable once earned, back to the
    # platform in proportion to refunds or in full when voided. Never a debit balance.
    KOL_PENDING = "kol_pending"


# Kinds with one account per owner; the others are the platform's, one each.
OWNED_KINDS = frozenset(
    {
        AccountKind.MERCHANT_PAYABLE,
        AccountKind.PAYEE_PAYABLE,
        AccountKind.LEADER_PENDING,
        AccountKind.KOL_PENDING,
    }
)
# Kinds whose balance must never be a debit: nobody may take out more than is owed to them.
NO_DEBIT_BALANCE = frozenset(
    {
        AccountKind.PAYEE_PAYABLE,
        AccountKind.PAYOUTS_IN_TRANSIT,
        AccountKind.REFUNDS_DUE,
        AccountKind.LEADER_PENDING,
        AccountKind.KOL_PENDING,
    }
)


class EntryKind(StrEnum):
    PAYMENT = "payment"  # a WeChat Pay transaction paid a checkout's orders
    REFUND = "refund"  # money went back to a shopper (an after-sales refund or a returned payment)
    SETTLEMENT_PAID = "settlement_paid"  # a merchant's statement was paid by bank transfer
    PAYOUT_REQUESTED = "payout_requested"  # a payee's withdrawal holds the amount
    PAYOUT_PAID = "payout_paid"  # WeChat Pay transferred it to the payee's balance
    PAYOUT_RETURNED = "payout_returned"  # the transfer failed or expired: back to the payee
    WECHAT_FEES = "wechat_fees"  # WeChat Pay's fees of a day, as its fund-flow bill says
    ADJUSTMENT = "adjustment"  # a finance person's correction or credit, with its reason
    # A community leader's commission: accrued at payment (paid by the platform out of its
    # commission, so merchants' statements are untouched),
    # earned after pickup and the after-sales window, reversed in proportion to a refund.
    LEADER_COMMISSION_ACCRUED = "leader_commission_accrued"
    LEADER_COMMISSION_EARNED = "leader_commission_earned"
    LEADER_COMMISSION_REVERSED = "leader_commission_reversed"
    # A KOL's commission, the same way (paid out of the platform's commission); voided on a
    # fraud review: what was left goes back to the platform.
    KOL_COMMISSION_ACCRUED = "kol_commission_accrued"
    KOL_COMMISSION_EARNED = "kol_commission_earned"
    KOL_COMMISSION_REVERSED = "kol_commission_reversed"
    KOL_COMMISSION_VOIDED = "kol_commission_voided"
