"""What a community shopper hears once their batch arrived at the point: their order is ready,
with its pickup code (the leader asks for it at the point). Other pickup orders keep
fulfilment's own notice (which leaves the code in the mini-program)."""

from __future__ import annotations

from commerce.community.models import CommunityOrder
from commerce.fulfilment.events import FulfilmentStatusChanged
from commerce.fulfilment.queries import fulfilment_of
from commerce.fulfilment.states import FulfilmentStatus
from commerce.orders import queries as orders
from commerce.users.notice_templates import PICKUP_READY
from commerce.users.notify import ShopperNotifier, SubscribeNotice

READY_TEXT = (
    "您好，您在社区团购的订单 {order_no} 已到达团长自提点「{point}」（{address}），"
    "提货码：{code}。请在营业时间内到店出示提货码提货。"
)


async def is_community_order(order_id: int) -> bool:
    return await CommunityOrder.exists(order_id=order_id)


async def tell_shopper_ready_with_code(event: FulfilmentStatusChanged, *, notifier: ShopperNotifier) -> None:
    """Tell a community shopper their order waits at the point, with its code: by the official
    account, or else by the subscribe message they accepted at checkout (otherwise the order
    page shows it). A repeat after a pickup says nothing."""
    if not await is_community_order(event.order_id):
        return
    facts = await orders.order_facts(event.order_id)
    found = await fulfilment_of(event.order_id)
    if facts is None or found is None or found.status is not FulfilmentStatus.READY:
        return
    text = READY_TEXT.format(
        order_no=facts.order_no,
        point=found.pickup_point_name,
        address=found.pickup_point_address,
        code=found.pickup_code,
    )
    otherwise = SubscribeNotice(
        PICKUP_READY,
        (facts.summary, found.pickup_code, found.pickup_point_name),
        page=f"pages/order/index?id={event.order_id}",
    )
    await notifier.tell(facts.user_id, text, otherwise=otherwise)
