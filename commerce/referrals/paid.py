"""Attributions at payment and cancellation (subscribers of payment.received and
order.status_changed): a paid order's attribution is frozen and counted in its KOL's funnel
(one order and its paid amount, on the day it was paid, in the channel of the touch that won),
then its commissions accrue; an order cancelled unpaid voids its attribution."""

from __future__ import annotations

from commerce.orders import queries as orders
from commerce.orders.events import OrderStatusChanged
from commerce.orders.states import OrderStatus
from commerce.payments.events import PaymentReceived
from commerce.referrals import attribution, commissions, rollups
from commerce.referrals.models import ReferralAttribution
from commerce.referrals.states import AttributionStatus
from commerce.transactions import unit_of_work, write_transaction


async def on_paid(event: PaymentReceived) -> None:
    for order_id in event.paid_order_ids:
        await freeze(order_id=order_id)
        await commissions.accrue(order_id=order_id)


@unit_of_work
async def freeze(*, order_id: int) -> bool:
    """Freeze the order's attribution and count it in the funnel, once; False when the order has
    no attribution, or it was frozen (or voided) already."""
    found = await ReferralAttribution.get_or_none(order_id=order_id, status=AttributionStatus.PLACED)
    if found is None:
        return False
    facts = await orders.order_facts(order_id)
    if facts is None or facts.paid_at is None:
        return False
    [order] = await orders.charged_orders([order_id])
    async with write_transaction() as conn:
        moved = (
            await ReferralAttribution.filter(id=found.id, status=AttributionStatus.PLACED)
            .using_db(conn)
            .update(status=AttributionStatus.FROZEN, frozen_at=facts.paid_at)
        )
        if not moved:
            return False
        await rollups.bump(
            conn,
            kol_id=found.kol_id,
            at=facts.paid_at,
            channel=found.channel,
            orders=1,
            paid_gmv=order.payable,
        )
    return True


@unit_of_work
async def on_cancelled(event: OrderStatusChanged) -> None:
    if event.to_status is OrderStatus.CANCELLED:
        async with write_transaction() as conn:
            await attribution.void_unpaid(conn, order_id=event.order_id)
