"""Who the agent is talking to: the follower, the shopper they are (linked through the unionid)
and their recent orders, as the conversation page shows them beside the messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commerce.errors import CommerceError
from commerce.orders import queries as orders
from commerce.orders.states import OrderStatus
from commerce.users import directory, followers
from commerce.users.services import Shopper

RECENT_ORDERS = 5


@dataclass(frozen=True)
class RecentOrder:
    id: int
    order_no: str
    status: OrderStatus
    payable: int  # fen
    created_at: datetime


@dataclass(frozen=True)
class ShopperPanel:
    follows: bool | None  # follows the official account now; None: never seen as a follower
    follow_scene: str  # the QR scene they first followed through ("" for a plain follow)
    user_id: int | None  # the shopper, when linked
    nickname: str
    phone_masked: str  # "138****8000", or ""
    orders: list[RecentOrder]  # newest first
    order_count: int


async def shopper_panel(*, openid: str, user_id: int | None = None) -> ShopperPanel:
    """The follower behind `openid` and, once linked, their shopper account and latest orders.
    `user_id` is the shopper the conversation was opened for, used when the link is unknown."""
    follower = await followers.get_follower(openid=openid)
    shopper = await followers.shopper_of(openid=openid)
    linked = shopper.user_id if shopper is not None else user_id
    nickname = phone = ""
    recent: list[RecentOrder] = []
    count = 0
    if linked is not None:
        try:
            profile = await directory.shopper_profile(user_id=linked)
        except CommerceError:  # the account is gone: show the follower alone
            linked = None
        else:
            nickname, phone = profile.summary.nickname, profile.summary.phone_masked
            page = await orders.list_orders(
                shopper=Shopper(user_id=linked, openid=profile.summary.openid), page_size=RECENT_ORDERS
            )
            count = page.total
            recent = [RecentOrder(o.id, o.order_no, o.status, o.payable, o.created_at) for o in page.items]
    return ShopperPanel(
        follows=None if follower is None else follower.subscribed,
        follow_scene=follower.first_scene if follower is not None else "",
        user_id=linked,
        nickname=nickname,
        phone_masked=phone,
        orders=recent,
        order_count=count,
    )
