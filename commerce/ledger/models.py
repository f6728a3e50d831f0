"""The books: accounts, and append-only journal entries of balanced postings in fen.

An entry is never edited or deleted: a correction is a new entry. Each entry is keyed by the
event that caused it (`payment:17`, `refund:42`), so posting the same event twice posts once.
An account's `balance` is a running total kept in the posting's transaction, for fast reads;
the sum of its postings is the truth, and a nightly job checks one against the other.
"""

from tortoise import fields
from tortoise.models import Model

from commerce.ledger.states import AccountKind, EntryKind


class LedgerAccount(Model):
    id = fields.IntField(primary_key=True)
    # "clearing", "merchant_payable:12", "payee_payable:7": kind, and the owner where it has one.
    code = fields.CharField(max_length=64, unique=True)
    kind = fields.CharEnumField(AccountKind, max_length=32)
    owner_id = fields.IntField(null=True)  # the merchant or user, for the per-owner kinds
    # The sum of its postings (debit positive), kept with every posting; see the module doc.
    balance = fields.BigIntField(default=0)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "ledger_account"
        indexes = (("kind", "owner_id"),)


class JournalEntry(Model):
    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=96, unique=True)  # the causing event: posts once
    kind = fields.CharEnumField(EntryKind, max_length=32)
    memo = fields.CharField(max_length=200, default="")  # zh-CN, as finance reads it
    actor = fields.CharField(max_length=64, default="system")  # "system", "staff:3", …
    # What the entry's figures were computed from (a refund's amount per order line, …), so
    # anyone can check them later.
    detail: dict = fields.JSONField(default=dict)
    occurred_at = fields.DatetimeField(db_index=True)  # when the money moved (the event's time)
    created_at = fields.DatetimeField()

    class Meta:
        table = "journal_entry"


class Posting(Model):
    id = fields.BigIntField(primary_key=True)
    entry = fields.ForeignKeyField("models.JournalEntry", related_name="postings", on_delete=fields.RESTRICT)
    account = fields.ForeignKeyField(
        "models.LedgerAccount", related_name="postings", on_delete=fields.RESTRICT
    )
    amount = fields.BigIntField()  # fen; debit positive, credit negative; never 0
    order_id = fields.IntField(null=True, db_index=True)  # the order it concerns, if one
    occurred_at = fields.DatetimeField()  # the entry's, repeated so an account's history is one index

    class Meta:
        table = "ledger_posting"
        indexes = (("account_id", "occurred_at"),)


class CommissionRate(Model):
    """The commission the platform takes on the sales of a category, in basis points (500 = 5%).
    A product takes the rate of its category, else of its nearest ancestor with one, else the
    default setting. The rate is stamped on each order line when it is paid, so a later change
    never rewrites history."""

    id = fields.IntField(primary_key=True)
    category_id = fields.IntField(unique=True)
    rate_bps = fields.IntField()  # 0..10000
    updated_by = fields.CharField(max_length=64)  # "staff:3"
    updated_at = fields.DatetimeField()

    class Meta:
        table = "commission_rate"


class ChargeReversal(Model):
    """What a paid order (order_line_id 0) or one of its lines was charged (commission for a
    line, the payment fee for the order) on what basis, and what of it refunds have reversed so
    far. Refunds move refunded and reversed by conditional updates in the transaction of their
    posting (the order row first), so concurrent refunds of one order queue, and a fully
    refunded line or order reverses exactly what was charged (each reversal is the cumulative
    share, minus the past)."""

    id = fields.BigIntField(primary_key=True)
    order_id = fields.IntField()
    order_line_id = fields.IntField(default=0)  # 0: the order itself (its payment fee)
    basis = fields.BigIntField()  # what was paid: the line's or the order's payable
    charged = fields.BigIntField()  # the commission of the line, or the order's fee
    refunded = fields.BigIntField(default=0)  # of basis, refunded so far
    reversed = fields.BigIntField(default=0)  # of charged, reversed so far

    class Meta:
        table = "ledger_charge_reversal"
        unique_together = (("order_id", "order_line_id"),)


class BalanceCheck(Model):
    """One run of the nightly check: the running balance of every account against the sum of
    its postings."""

    id = fields.IntField(primary_key=True)
    checked_at = fields.DatetimeField(db_index=True)
    accounts = fields.IntField()
    entries = fields.BigIntField()
    # [{"account": code, "balance": running, "recomputed": sum}] for each account that differs
    differences: list = fields.JSONField(default=list)
    duration_ms = fields.IntField()

    class Meta:
        table = "ledger_balance_check"
