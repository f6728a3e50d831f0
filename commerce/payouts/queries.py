"""Reads of payouts: the payee's wallet (what is owed, in transit, their withdrawals) and the
finance pages (by status, one with its timeline)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from commerce.db import fetch_rows
from commerce.ledger.services import payee_payable
from commerce.payouts.errors import PayoutError
from commerce.payouts.models import Payout, PayoutEvent
from commerce.payouts.states import OPEN, PayoutStatus

RECENT = 50


@dataclass(frozen=True)
class PayoutEventView:
    type: str
    from_status: str
    to_status: str
    actor: str
    params: dict
    created_at: datetime


@dataclass(frozen=True)
class PayoutView:
    id: int
    out_bill_no: str
    payee_user_id: int
    amount: int
    status: PayoutStatus
    created_at: datetime
    updated_at: datetime
    real_name_required: bool
    real_name_masked: str
    transfer_bill_no: str
    wechat_state: str
    package_info: str  # only while the payee is to confirm
    confirm_deadline: datetime | None
    approved_by: str
    approved_at: datetime | None
    refusal: str
    failure_reason: str
    finished_at: datetime | None
    events: list[PayoutEventView] = field(default_factory=list)


@dataclass(frozen=True)
class Wallet:
    owed: int  # what the payee may withdraw now (fen)
    in_transit: int  # withdrawals asked and not yet paid or returned
    payouts: list[PayoutView]


def _view(row: Payout, events: list[PayoutEventView] | None = None) -> PayoutView:
    waiting = row.status is PayoutStatus.WAITING_CONFIRMATION
    return PayoutView(
        id=row.id,
        out_bill_no=row.out_bill_no,
        payee_user_id=row.payee_user_id,
        amount=row.amount,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        real_name_required=row.real_name_required,
        real_name_masked=row.real_name_masked,
        transfer_bill_no=row.transfer_bill_no,
        wechat_state=row.wechat_state,
        package_info=(row.package_info or "") if waiting else "",
        confirm_deadline=row.confirm_deadline,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        refusal=row.refusal,
        failure_reason=row.failure_reason,
        finished_at=row.finished_at,
        events=events or [],
    )


async def owed_to(user_id: int) -> int:
    """The payee's balance in the books, as a positive amount owed. (Read from the ledger's
    running balance; to be ledger.queries' balance once that lands.)"""
    rows = await fetch_rows(
        "SELECT `balance` FROM `ledger_account` WHERE `code` = ?", [payee_payable(user_id).code]
    )
    return -int(rows[0]["balance"]) if rows else 0


async def wallet(*, user_id: int) -> Wallet:
    rows = await Payout.filter(payee_user_id=user_id).order_by("-id").limit(RECENT)
    in_transit = sum(
        row.amount for row in await Payout.filter(payee_user_id=user_id, status__in=OPEN).only("amount")
    )
    return Wallet(owed=await owed_to(user_id), in_transit=in_transit, payouts=[_view(r) for r in rows])


async def withdrawn(*, user_id: int) -> int:
    """What the payee has had paid to their WeChat balance, all told."""
    amounts = await Payout.filter(payee_user_id=user_id, status=PayoutStatus.SUCCEEDED).values_list(
        "amount", flat=True
    )
    return sum(int(a) for a in amounts)


async def payee_get(*, user_id: int, payout_id: int) -> PayoutView:
    """The payee's own payout; another's is not found."""
    row = await Payout.get_or_none(id=payout_id, payee_user_id=user_id)
    if row is None:
        raise PayoutError.NOT_FOUND.error()
    return _view(row)


async def staff_list(
    *, status: PayoutStatus | None, page: int, page_size: int
) -> tuple[list[PayoutView], int]:
    query = Payout.all() if status is None else Payout.filter(status=status)
    total = await query.count()
    rows = await query.order_by("-id").offset((page - 1) * page_size).limit(page_size)
    return [_view(row) for row in rows], total


async def staff_get(*, payout_id: int) -> PayoutView:
    row = await Payout.get_or_none(id=payout_id)
    if row is None:
        raise PayoutError.NOT_FOUND.error()
    events = [
        PayoutEventView(e.type.value, e.from_status, e.to_status, e.actor, dict(e.params), e.created_at)
        for e in await PayoutEvent.filter(payout_id=payout_id).order_by("id")
    ]
    return _view(row, events)
