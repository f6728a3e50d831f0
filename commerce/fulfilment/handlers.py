"""What follows a fulfilment's move, after its commit: the shopper hears that their order
waits at the point they chose."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from commerce.fulfilment.events import FulfilmentStatusChanged
from commerce.fulfilment.queries import fulfilment_of
from commerce.fulfilment.states import FulfilmentStatus
from commerce.orders import queries as orders
from commerce.users import followers
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import OutOfWindow

log = logging.getLogger(__name__)

# The code itself stays in the mini-program's order page: a message is no place for it.
READY_TEXT = (
    "您好，订单 {order_no} 已到达自提点「{point}」（{address}），"
    "请在小程序订单详情中查看提货码，到店出示即可提货。"
)


async def tell_shopper_ready(
    event: FulfilmentStatusChanged,
    *,
    mp: WeChatClient,
    unless: Callable[[int], Awaitable[bool]] | None = None,
) -> None:
    """The official account tells the shopper their order is ready at its point (WeChat takes
    such messages within 48 hours of the shopper's last interaction; otherwise the order page
    says it). A repeat finds it the same and says it again: harmless. `unless`: orders another
    subscriber tells in its own words (a community order, with its code)."""
    if unless is not None and await unless(event.order_id):
        return
    facts = await orders.order_facts(event.order_id)
    found = await fulfilment_of(event.order_id)
    if facts is None or found is None or found.status is not FulfilmentStatus.READY:
        return  # picked up meanwhile: nothing to say
    text = READY_TEXT.format(
        order_no=facts.order_no, point=found.pickup_point_name, address=found.pickup_point_address
    )
    for openid in await followers.openids_of_shopper(user_id=facts.user_id):
        try:
            await mp.send_custom_message(openid, {"msgtype": "text", "text": {"content": text}})
        except OutOfWindow as closed:
            log.info("pickup notice to %s not sent: window closed (%s)", openid, closed.errcode)
