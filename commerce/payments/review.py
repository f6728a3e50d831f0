"""Staff submitting a failed refund again (a new out_refund_no). Reviewing a request for money
back is after-sales' (commerce.aftersales.review), which calls this for a request's refund; an
automatic refund (money an order could not take) is retried from its order.

Who may: the edge checks Permission.REFUNDS; here a merchant's people act only on their merchant's
orders (another merchant's order is not found), and a customer-service agent only up to the
agent limit the edge passes from the settings. One transaction with a conditional update on
the failed refund, an order event and an audit entry: two presses at once retry once.
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from commerce import clock, outbox
from commerce.audit import services as audit
from commerce.errors import CommerceError
from commerce.money import fen_to_yuan
from commerce.orders import queries as orders
from commerce.orders import services as order_services
from commerce.orders.errors import OrderError
from commerce.orders.states import EventType
from commerce.payments.errors import RefundError
from commerce.payments.events import RefundRequested
from commerce.payments.models import Payment, Refund
from commerce.payments.services import new_refund
from commerce.payments.states import RefundStatus
from commerce.staff.auth import Staff
from commerce.staff.states import StaffRole
from commerce.transactions import unit_of_work, write_transaction


def within_limit(staff: Staff, amount: int, agent_refund_limit_fen: int) -> bool:
    """Whether the staff member's role may decide a refund of this amount."""
    return staff.role is not StaffRole.AGENT or amount <= agent_refund_limit_fen


@unit_of_work
async def retry_refund(*, refund_id: int, staff: Staff, agent_refund_limit_fen: int) -> int:
    """Submit a failed refund again as a new refund (a new out_refund_no: WeChat Pay answers a
    known number with its old outcome)."""
    refund = await _allowed(refund_id, staff, agent_refund_limit_fen)
    if refund.status is not RefundStatus.FAILED or refund.retried_as_id is not None:
        raise RefundError.NOT_RETRYABLE.error()
    if refund.failure_code == "ABNORMAL":
        raise RefundError.ABNORMAL.error()
    payment = await Payment.get(id=refund.payment_id)
    try:
        async with write_transaction() as conn:
            # The same money again: the order counted it as refunded when it was first asked.
            again = await new_refund(
                conn,
                payment=payment,
                order_id=refund.order_id,
                amount=refund.amount,
                reason=refund.reason,
                actor=staff.actor,
                automatic=refund.automatic,
                whole_order=refund.whole_order,
                aftersale_id=refund.aftersale_id,
            )
            moved = await (
                Refund.filter(id=refund.id, status=RefundStatus.FAILED, retried_as_id__isnull=True)
                .using_db(conn)
                .update(retried_as_id=again.id, updated_at=clock.now())
            )
            if not moved:  # retried by someone else first
                raise RefundError.NOT_RETRYABLE.error()
            await order_services.record_event(
                conn,
                order_id=refund.order_id,
                type_=EventType.REFUND_RETRIED,
                actor=staff.actor,
                params={"out_refund_no": again.out_refund_no, "previous": refund.out_refund_no},
            )
            await _audit(
                conn, staff, "refund.retry", refund, {"status": "failed"}, {"retried_as": again.out_refund_no}
            )
            event = await outbox.emit(RefundRequested(refund_id=again.id), connection=conn)
    except IntegrityError:  # a concurrent retry took the same out_refund_no
        raise RefundError.NOT_RETRYABLE.error() from None
    await outbox.deliver([event])
    return refund.order_id


async def _allowed(refund_id: int, staff: Staff, agent_refund_limit_fen: int) -> Refund:
    refund = await Refund.get_or_none(id=refund_id)
    if refund is None:
        raise RefundError.NOT_FOUND.error()
    try:
        await orders.staff_scope(order_id=refund.order_id, merchant_id=staff.merchant_id)
    except CommerceError as exc:  # another merchant's order: its refund is not found either
        if exc.code == OrderError.NOT_FOUND.code:
            raise RefundError.NOT_FOUND.error() from None
        raise
    if not within_limit(staff, refund.amount, agent_refund_limit_fen):
        amount, limit = fen_to_yuan(refund.amount), fen_to_yuan(agent_refund_limit_fen)
        raise RefundError.OVER_AGENT_LIMIT.error(
            f"退款金额 ¥{amount} 超过客服可处理的 ¥{limit}，请由商家或平台管理员处理"
        )
    return refund


async def _audit(
    conn, staff: Staff, action: str, refund: Refund, before: dict, after: dict, *, note: str = ""
) -> None:
    order_no = (await orders.order_numbers({refund.order_id})).get(refund.order_id, "")
    await audit.record(
        actor=staff.actor,
        action=action,
        object_type="refund",
        object_id=refund.id,
        summary=f"订单 {order_no} {refund.out_refund_no} ¥{fen_to_yuan(refund.amount)} {note}".strip(),
        before=before,
        after=after,
        connection=conn,
    )
