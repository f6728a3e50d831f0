"""Staff handling after-sales requests: approve or refuse, confirm a return's receipt (and
whether its goods go back on sale) or reject it, submit a failed refund again, add a note; and
the scheduler approving requests whose review is due.

Who may: the edge checks the role; here a merchant's people act only on their merchant's
requests (another's is not found), and a customer-service agent only up to the agent limit the
edge passes from the settings. Every action is one transaction: a conditional move of the
request (two staff members at once: one wins, the other is told it was handled), its timeline
row and an audit entry.
"""

from __future__ import annotations

import logging

from commerce import clock, outbox
from commerce.aftersales import queries
from commerce.aftersales.errors import AfterSaleError
from commerce.aftersales.lifecycle import move, record
from commerce.aftersales.models import AfterSale
from commerce.aftersales.queries import KIND_LABELS, AfterSaleView
from commerce.aftersales.states import AfterSaleEventType, AfterSaleStatus
from commerce.aftersales.steps import SYSTEM, approve_in, give_back, refund_in
from commerce.audit import services as audit
from commerce.errors import CommerceError
from commerce.jobs import services as jobs
from commerce.money import fen_to_yuan
from commerce.payments import queries as payments
from commerce.payments import review as payments_review
from commerce.staff.auth import Staff
from commerce.staff.states import StaffRole
from commerce.transactions import unit_of_work, write_transaction

log = logging.getLogger(__name__)
APPROVE_OVERDUE = "approve_overdue_aftersales"  # the scheduled job's name in its failure records

REFUSAL_MAX = 200
NOTE_MAX = 500


@unit_of_work
async def approve(*, aftersale_id: int, staff: Staff, agent_refund_limit_fen: int) -> AfterSaleView:
    """A refund only goes to WeChat Pay; a return waits for the shopper to send the goods."""
    row = await _allowed(aftersale_id, staff, agent_refund_limit_fen)
    async with write_transaction() as conn:
        events = await approve_in(conn, row, actor=staff.actor)
        await _audit(conn, staff, "aftersale.approve", row, AfterSaleStatus.REQUESTED, _after(row))
    await outbox.deliver(events)
    return await queries.staff_get(aftersale_id=aftersale_id, merchant_id=staff.merchant_id)


@unit_of_work
async def refuse(
    *, aftersale_id: int, staff: Staff, reason: str, agent_refund_limit_fen: int
) -> AfterSaleView:
    """No: the shopper reads why; the units and money may be asked for again."""
    reason = _checked_refusal(reason)
    row = await _allowed(aftersale_id, staff, agent_refund_limit_fen)
    return await _refuse(row, staff, reason, AfterSaleStatus.REQUESTED, "aftersale.refuse")


@unit_of_work
async def confirm_return(
    *, aftersale_id: int, staff: Staff, restock: bool, agent_refund_limit_fen: int
) -> AfterSaleView:
    """The goods came back: the refund goes to WeChat Pay; with `restock` their stock goes
    back on sale (not when they came back unsellable)."""
    row = await _allowed(aftersale_id, staff, agent_refund_limit_fen)
    params = {"restocked": bool(restock)}
    async with write_transaction() as conn:
        moved = await move(
            conn,
            row,
            AfterSaleStatus.RETURNING,
            AfterSaleStatus.REFUNDING,
            actor=staff.actor,
            params=params,
            changes={"restocked": bool(restock)},
            type_=AfterSaleEventType.RECEIVED,
        )
        events = [moved, *await refund_in(conn, row, actor=staff.actor, goods_back=bool(restock))]
        await _audit(
            conn,
            staff,
            "aftersale.confirm_return",
            row,
            AfterSaleStatus.RETURNING,
            {"status": "refunding", **params},
        )
    await outbox.deliver(events)
    return await queries.staff_get(aftersale_id=aftersale_id, merchant_id=staff.merchant_id)


@unit_of_work
async def reject_return(
    *, aftersale_id: int, staff: Staff, reason: str, agent_refund_limit_fen: int
) -> AfterSaleView:
    """Nothing came back, or not what was sold: no refund, and the shopper reads why."""
    reason = _checked_refusal(reason)
    row = await _allowed(aftersale_id, staff, agent_refund_limit_fen)
    return await _refuse(row, staff, reason, AfterSaleStatus.RETURNING, "aftersale.reject_return")


@unit_of_work
async def retry_refund(*, aftersale_id: int, staff: Staff, agent_refund_limit_fen: int) -> AfterSaleView:
    """Submit the request's failed refund again, as a new refund (a new out_refund_no) for the
    same request. Refused when it did not fail, was retried already, or ended ABNORMAL (the
    merchant resolves that at the merchant platform)."""
    row = await _allowed(aftersale_id, staff, agent_refund_limit_fen)
    failed = (await payments.aftersale_refunds([row.id])).get(row.id)
    if row.status is not AfterSaleStatus.REFUNDING or failed is None:
        raise AfterSaleError.ALREADY_HANDLED.error()
    await payments_review.retry_refund(
        refund_id=failed.id, staff=staff, agent_refund_limit_fen=agent_refund_limit_fen
    )
    again = (await payments.aftersale_refunds([row.id]))[row.id]
    async with write_transaction() as conn:
        await AfterSale.filter(id=row.id).using_db(conn).update(refund_id=again.id, updated_at=clock.now())
        await record(
            conn,
            row.id,
            AfterSaleEventType.REFUND_RETRIED,
            staff.actor,
            params={"out_refund_no": again.out_refund_no, "previous": failed.out_refund_no},
        )
    return await queries.staff_get(aftersale_id=aftersale_id, merchant_id=staff.merchant_id)


@unit_of_work
async def add_note(*, aftersale_id: int, staff: Staff, text: str) -> None:
    """A note on the request's timeline (staff only); changes nothing."""
    text = (text or "").strip()
    if not 1 <= len(text) <= NOTE_MAX:
        raise AfterSaleError.INVALID_DESCRIPTION.error("备注须为 1-500 字")
    row = await queries.scoped(aftersale_id, staff.merchant_id)
    async with write_transaction() as conn:
        await record(conn, row.id, AfterSaleEventType.NOTE, staff.actor, params={"text": text})


async def approve_overdue(*, limit: int = 200) -> int:
    """Approve requests whose review is due (the scheduler runs this); how many were. One
    handled meanwhile is skipped; one that fails is recorded (the admin's failing jobs) and
    tried again by a later run, while the others go on."""
    put_off = await jobs.put_off(job=APPROVE_OVERDUE, item_kind="aftersale")
    due = (
        await AfterSale.filter(status=AfterSaleStatus.REQUESTED, review_due_at__lte=clock.now())
        .exclude(id__in=put_off or [0])
        .order_by("review_due_at", "id")
        .limit(limit)
        .values_list("id", flat=True)
    )

    async def approve(aftersale_id: int) -> bool:
        try:
            await _approve_overdue(aftersale_id)
        except CommerceError as exc:  # reviewed or withdrawn meanwhile: not ours to do
            if exc.code != AfterSaleError.ALREADY_HANDLED.code:
                raise
            return False
        return True

    return await jobs.each_item(
        job=APPROVE_OVERDUE, item_kind="aftersale", items=due, item_id=int, handle=approve
    )


@unit_of_work
async def _approve_overdue(aftersale_id: int) -> None:
    row = await AfterSale.get(id=aftersale_id)
    async with write_transaction() as conn:
        events = await approve_in(conn, row, actor=SYSTEM, params={"why": "商家超时未处理，自动同意"})
    await outbox.deliver(events)


async def _refuse(
    row: AfterSale, staff: Staff, reason: str, frm: AfterSaleStatus, action: str
) -> AfterSaleView:
    async with write_transaction() as conn:
        now = clock.now()
        event = await move(
            conn,
            row,
            frm,
            AfterSaleStatus.REFUSED,
            actor=staff.actor,
            params={"reason": reason},
            changes={"refusal": reason, "reviewed_by": staff.actor, "reviewed_at": now, "finished_at": now},
        )
        await give_back(conn, row, actor=staff.actor, why=reason)
        await _audit(conn, staff, action, row, frm, {"status": "refused", "reason": reason}, note=reason)
    await outbox.deliver([event])
    return await queries.staff_get(aftersale_id=row.id, merchant_id=staff.merchant_id)


def _checked_refusal(reason: str) -> str:
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= REFUSAL_MAX:
        raise AfterSaleError.INVALID_REFUSAL.error()
    return reason


async def _allowed(aftersale_id: int, staff: Staff, agent_refund_limit_fen: int) -> AfterSale:
    """The request, if this member of staff may decide it (scope, then the agent's limit)."""
    row = await queries.scoped(aftersale_id, staff.merchant_id)
    if staff.role is StaffRole.AGENT and row.amount > agent_refund_limit_fen:
        amount, limit = fen_to_yuan(row.amount), fen_to_yuan(agent_refund_limit_fen)
        raise AfterSaleError.OVER_AGENT_LIMIT.error(
            f"退款金额 ¥{amount} 超过客服可处理的 ¥{limit}，请由商家或平台管理员处理"
        )
    return row


def _after(row: AfterSale) -> dict:
    return {"status": "awaiting_return" if row.kind.value == "return_refund" else "refunding"}


async def _audit(
    conn, staff: Staff, action: str, row: AfterSale, before: AfterSaleStatus, after: dict, *, note: str = ""
) -> None:
    summary = f"售后 {row.aftersale_no} {KIND_LABELS[row.kind]} ¥{fen_to_yuan(row.amount)} {note}".strip()
    await audit.record(
        actor=staff.actor,
        action=action,
        object_type="aftersale",
        object_id=row.id,
        summary=summary,
        before={"status": before.value},
        after=after,
        connection=conn,
    )
