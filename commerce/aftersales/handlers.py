"""What after-sales learns from payments, after their commit (shop.subscriptions): a request's
refund came through, or failed. Idempotent: the outbox may repeat an event."""

from __future__ import annotations

from commerce import clock, outbox
from commerce.aftersales.lifecycle import move, record
from commerce.aftersales.models import AfterSale, AfterSaleEvent
from commerce.aftersales.states import OPEN, AfterSaleEventType, AfterSaleStatus
from commerce.aftersales.steps import SYSTEM
from commerce.orders import queries as orders
from commerce.orders import services as order_services
from commerce.payments import queries as payments
from commerce.payments.events import RefundFailed, RefundSucceeded
from commerce.transactions import unit_of_work, write_transaction


@unit_of_work
async def refund_succeeded(event: RefundSucceeded) -> None:
    """The request is refunded; when it returned the last of what the order sold, the order
    closes."""
    if event.aftersale_id is None:
        return  # an automatic refund (money an order could not take): not a request's
    row = await AfterSale.get_or_none(id=event.aftersale_id)
    if row is None or row.status is not AfterSaleStatus.REFUNDING:
        return  # told before
    refund = await payments.refund_facts(event.refund_id)
    params = {"out_refund_no": refund.out_refund_no if refund else "", "amount": row.amount}
    async with write_transaction() as conn:
        moved = await move(
            conn,
            row,
            AfterSaleStatus.REFUNDING,
            AfterSaleStatus.REFUNDED,
            actor=SYSTEM,
            params=params,
            changes={"finished_at": clock.now()},
            must=False,
        )
        if moved is None:
            return  # told before, concurrently
        events = [moved]
        if await _everything_refunded(conn, row.order_id):
            events.append(
                await order_services.close_refunded(conn, order_id=row.order_id, actor=SYSTEM, params=params)
            )
    await outbox.deliver(events)


async def refund_failed(event: RefundFailed) -> None:
    """Staff see the failure on the request's timeline, with the refund's failure code and
    what to do (retry, or resolve an ABNORMAL one at the merchant platform)."""
    if event.aftersale_id is None:
        return
    refund = await payments.refund_facts(event.refund_id)
    if refund is None:
        return
    await _record_failure(event.aftersale_id, refund)


@unit_of_work
async def _record_failure(aftersale_id: int, refund: payments.RefundView) -> None:
    async with write_transaction() as conn:
        seen = await (
            AfterSaleEvent.filter(aftersale_id=aftersale_id, type=AfterSaleEventType.REFUND_FAILED)
            .using_db(conn)
            .values_list("params", flat=True)
        )
        if any(p.get("out_refund_no") == refund.out_refund_no for p in seen):
            return  # told before
        await record(
            conn,
            aftersale_id,
            AfterSaleEventType.REFUND_FAILED,
            SYSTEM,
            params={
                "out_refund_no": refund.out_refund_no,
                "code": refund.failure_code,
                "why": refund.failure,
            },
        )


async def _everything_refunded(conn, order_id: int) -> bool:
    """Every unit the order sold is refunded, and no request of it is still open (each one not
    refunded gave its units back): nothing is left to refund."""
    if await AfterSale.filter(order_id=order_id, status__in=OPEN).using_db(conn).exists():
        return False
    return all(line.units_left == 0 for line in await orders.line_facts(order_id, conn))
