"""What the shopper's, the staff's and the scheduler's use cases share, inside their one
transaction: approving a request, sending its refund, giving back what a request held."""

from __future__ import annotations

from commerce import clock, outbox
from commerce.aftersales.lifecycle import move
from commerce.aftersales.models import AfterSale, AfterSaleLine
from commerce.aftersales.states import AfterSaleKind, AfterSaleStatus
from commerce.orders import services as orders
from commerce.payments import services as payments

SYSTEM = "system:aftersales"


async def approve_in(
    conn, row: AfterSale, *, actor: str, params: dict | None = None
) -> list[outbox.OutboxEvent]:
    """A refund only goes to WeChat Pay; a return waits for the goods to come back."""
    reviewed = {"reviewed_by": actor, "reviewed_at": clock.now()}
    if row.kind is AfterSaleKind.RETURN_REFUND:
        return [
            await move(
                conn,
                row,
                AfterSaleStatus.REQUESTED,
                AfterSaleStatus.AWAITING_RETURN,
                actor=actor,
                params=params,
                changes=reviewed,
            )
        ]
    moved = await move(
        conn,
        row,
        AfterSaleStatus.REQUESTED,
        AfterSaleStatus.REFUNDING,
        actor=actor,
        params=params,
        changes=reviewed,
    )
    # The goods of a refund only stay with the shopper, unless they never left the merchant.
    return [moved, *await refund_in(conn, row, actor=actor, goods_back=row.before_shipment)]


async def refund_in(conn, row: AfterSale, *, actor: str, goods_back: bool) -> list[outbox.OutboxEvent]:
    """The request is refunding: its claims give back what their rule says (stock, when the
    goods are in the warehouse), and payments writes the refund, submitted after commit."""
    units: dict[int, int] = {}
    for sku_id, quantity in (
        await AfterSaleLine.filter(aftersale_id=row.id).using_db(conn).values_list("sku_id", "quantity")
    ):
        units[sku_id] = units.get(sku_id, 0) + quantity
    await orders.release_refunded_units(conn, order_id=row.order_id, units=units, goods_back=goods_back)
    submitted = await payments.refund_aftersale(
        conn,
        order_id=row.order_id,
        aftersale_id=row.id,
        amount=row.amount,
        reason=f"售后{row.aftersale_no}：{row.reason}",
        actor=actor,
    )
    await AfterSale.filter(id=row.id).using_db(conn).update(refund_id=submitted.refund_id)
    return [submitted.event]


async def give_back(conn, row: AfterSale, *, actor: str, why: str) -> None:
    """A request that will not be refunded (refused, withdrawn): its units and money may be
    asked for again."""
    for line in await AfterSaleLine.filter(aftersale_id=row.id).using_db(conn):
        await orders.give_back_line_refund(
            conn, order_line_id=line.order_line_id, quantity=line.quantity, amount=line.amount
        )
    await orders.give_back_refund(conn, order_id=row.order_id, amount=row.amount)
    await payments.drop_aftersale_refund(conn, aftersale_id=row.id, reason=why, actor=actor)
