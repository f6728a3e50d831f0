"""What happens to a sale's orders when it stops taking them (its cut-off, or its cancellation):
nothing of it may be paid any more, and what was paid but will not be delivered is refunded.

The unpaid orders are cancelled first (money arriving for one later goes back to the shopper by
itself), then every paid order is stamped and read, so none paid meanwhile is missed (READ
COMMITTED: a payment racing the cancellation either commits first, and is read, or finds its
order cancelled). Refunds go through after-sales (a refund only, approved at once as goods
never sent): retried, and seen by the shopper and staff like any other."""

from __future__ import annotations

from commerce import outbox
from commerce.aftersales import services as aftersales
from commerce.community.models import CommunityOrder, CommunitySale
from commerce.community.stamping import stamp_sale
from commerce.orders import queries as orders
from commerce.orders import services as order_services
from commerce.orders.states import OrderStatus

LATE = "社区团购已截单，付款晚于截单时间，订单无法配送，全额退款"
CANCELLED = "社区团购活动已取消，全额退款"


async def stop_payments(sale: CommunitySale, *, actor: str, reason: str) -> None:
    """Cancel the sale's orders not paid by now, then stamp those that are."""
    rows = await CommunityOrder.filter(sale_id=sale.id, paid_at__isnull=True).values_list(
        "order_id", flat=True
    )
    for order_id, facts in sorted((await orders.orders_facts(list(rows))).items()):
        if facts.status is OrderStatus.PENDING_PAYMENT:
            await order_services.cancel_unpaid(order_id=order_id, actor=actor, reason=reason)
    await stamp_sale(sale_id=sale.id)


async def paid_undelivered(sale: CommunitySale, *, after_cutoff: bool) -> list[orders.OrderFacts]:
    """The sale's paid orders in no batch: all of them, or those paid after its cut-off."""
    rows = CommunityOrder.filter(sale_id=sale.id, paid_at__isnull=False, batch_id__isnull=True)
    if after_cutoff:
        rows = rows.filter(paid_at__gt=sale.cutoff_at)
    facts_of = await orders.orders_facts(list(await rows.values_list("order_id", flat=True)))
    return [facts for _, facts in sorted(facts_of.items()) if facts.status is OrderStatus.PAID]


async def refund_in(
    conn, paid: list[orders.OrderFacts], *, reason: str, actor: str
) -> list[outbox.OutboxEvent]:
    """Inside the caller's transaction: each order refunded in full; the events to deliver."""
    events: list[outbox.OutboxEvent] = []
    for facts in paid:
        events += await aftersales.refund_whole_in(conn, facts=facts, reason=reason, actor=actor)
    return events
