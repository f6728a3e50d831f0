"""The leader stamped on a community order when it is paid (a subscriber of payment.received;
the cut-off stamps any it has not heard of yet).

"In force at payment" means: the binding the shopper had at the instant the order was recorded
paid (orders' paid_at), i.e. their last binding change at or before it (LeaderBindingChange),
if that leader is approved; a switch after that instant changes nothing, however late this
runs. A shopper bound to nobody (or to a leader suspended since) gets the leader whose point
they chose. Idempotent: only a row not stamped yet is written (a conditional update)."""

from __future__ import annotations

from commerce.community import sale_queries
from commerce.community.models import CommunityOrder
from commerce.orders import queries as orders
from commerce.orders.states import OrderStatus
from commerce.payments.events import PaymentReceived

PAID_OR_LATER = {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.CLOSED}


async def stamp_paid_orders(event: PaymentReceived) -> None:
    await stamp_orders(order_ids=list(event.paid_order_ids))


async def stamp_orders(*, order_ids: list[int]) -> int:
    """Stamp the community orders among these that are paid and not stamped yet; how many."""
    rows = await CommunityOrder.filter(order_id__in=order_ids, paid_at__isnull=True) if order_ids else []
    stamped = 0
    for row in rows:
        facts = await orders.order_facts(row.order_id)
        if facts is None or facts.paid_at is None or facts.status not in PAID_OR_LATER:
            continue
        leader_id = await sale_queries.leader_bound_at(user_id=row.user_id, moment=facts.paid_at)
        if leader_id is None:
            leader_id = (await sale_queries.leaders_of_points([row.pickup_point_id])).get(row.pickup_point_id)
        stamped += await CommunityOrder.filter(id=row.id, paid_at__isnull=True).update(
            leader_id=leader_id, paid_at=facts.paid_at
        )
    return stamped


async def stamp_sale(*, sale_id: int) -> int:
    """Stamp what a sale's orders paid meanwhile whose payment event is still on its way."""
    ids = await CommunityOrder.filter(sale_id=sale_id, paid_at__isnull=True).values_list(
        "order_id", flat=True
    )
    return await stamp_orders(order_ids=list(ids))
