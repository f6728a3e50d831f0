"""What a day's bills say against what we hold: pure rules, no database.

A bill's line is looked up among all our payments or refunds by its reference (one paid or
refunded on another day is no difference of this day); our payments paid and refunds succeeded
that day are looked up among the bill's lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from commerce.payments.queries import Movement
from commerce.payments.states import PaymentStatus, RefundStatus
from commerce.reconciliation.states import DifferenceKind, Source, Subject
from commerce.wechat.bills import FundFlowRow, TradeBillRow

# WeChat's words for money that moved: a payment's 交易状态, a refund's 退款状态. A fund-flow
# row is money that moved ("" here).
MOVED = frozenset({"SUCCESS", "REFUND", ""})
FEE_TYPE = "扣除交易手续费"


@dataclass(frozen=True)
class Seen:
    """A payment or a refund as one of the day's bills shows it."""

    subject: Subject
    reference: str
    amount: int  # fen
    state: str  # WeChat's (trade bill); "" from the fund-flow bill
    source: Source


@dataclass(frozen=True)
class Found:
    kind: DifferenceKind
    subject: Subject
    reference: str
    source: Source
    ours_amount: int | None = None
    theirs_amount: int | None = None
    ours_state: str = ""
    theirs_state: str = ""


def seen_in_trade_bill(rows: Iterable[TradeBillRow]) -> list[Seen]:
    return [
        Seen(Subject.REFUND, r.out_refund_no, r.refund, r.refund_status, Source.TRADE)
        if r.is_refund
        else Seen(Subject.PAYMENT, r.out_trade_no, r.settlement_total, r.trade_state, Source.TRADE)
        for r in rows
    ]


def seen_in_fund_flow(rows: Iterable[FundFlowRow]) -> list[Seen]:
    """The fund-flow bill's 交易 (income) and 退款 (expense) rows."""
    subjects = {"交易": Subject.PAYMENT, "退款": Subject.REFUND}
    return [
        Seen(subjects[r.business_type], r.voucher, r.amount, "", Source.FUND_FLOW)
        for r in rows
        if r.business_type in subjects
    ]


def fees_of(rows: Iterable[FundFlowRow]) -> int:
    """The day's fees, net of those returned with refunds (fen; a deduction is an expense)."""
    return sum(-r.signed for r in rows if r.business_type == FEE_TYPE)


def _succeeded(subject: Subject, status: str) -> bool:
    wanted = PaymentStatus.PAID if subject is Subject.PAYMENT else RefundStatus.SUCCEEDED
    return status == wanted.value


def compare(
    seen: list[Seen],
    ours_that_day: dict[Subject, list[Movement]],
    ours_by_reference: dict[Subject, dict[str, Movement]],
    source: Source,
) -> list[Found]:
    """The differences between one bill's lines and our day."""
    found: list[Found] = []
    for line in seen:
        ours = ours_by_reference[line.subject].get(line.reference)
        moved = line.state in MOVED
        if ours is None:
            if moved:
                found.append(
                    Found(
                        DifferenceKind.MISSING_HERE,
                        line.subject,
                        line.reference,
                        source,
                        theirs_amount=line.amount,
                        theirs_state=line.state,
                    )
                )
            continue
        succeeded = _succeeded(line.subject, ours.status)
        if succeeded != moved:
            kind = DifferenceKind.STATE
        elif succeeded and ours.amount != line.amount:
            kind = DifferenceKind.AMOUNT
        else:
            continue
        found.append(
            Found(
                kind,
                line.subject,
                line.reference,
                source,
                ours_amount=ours.amount,
                theirs_amount=line.amount,
                ours_state=ours.status,
                theirs_state=line.state,
            )
        )
    in_bill = {(line.subject, line.reference) for line in seen}
    for subject, movements in ours_that_day.items():
        for ours in movements:
            if (subject, ours.reference) not in in_bill:
                found.append(
                    Found(
                        DifferenceKind.MISSING_AT_WECHAT,
                        subject,
                        ours.reference,
                        source,
                        ours_amount=ours.amount,
                        ours_state=ours.status,
                    )
                )
    return found
