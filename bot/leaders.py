"""A follow or a scan through a leader's QR code (scene "leader_CODE"): the shopper behind the
follower is bound to that leader; a follower who is no shopper yet is remembered (by unionid)
and bound when they first sign in to the mini-program."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot import texts
from commerce.community import binding
from commerce.community.errors import LeaderError
from commerce.errors import CommerceError
from commerce.users import followers
from commerce.users.services import Shopper

ShopperOf = Callable[[str], Awaitable[Shopper | None]]


def is_leader_scene(scene: str) -> bool:
    return binding.share_code_of_scene(scene) is not None


async def bind_by_scene(*, openid: str, scene: str, shopper_of: ShopperOf) -> str:
    """What the bot answers: bound (with the leader and their point), remembered until the
    follower signs in, or why not."""
    shopper = await shopper_of(openid)
    if shopper is None:
        follower = await followers.get_follower(openid=openid)
        unionid = follower.unionid if follower else None
        name = await binding.remember_scan(unionid=unionid, scene=scene) if unionid else None
        return texts.LEADER_PENDING.format(leader=name) if name else texts.LEADER_UNAVAILABLE
    try:
        bound = await binding.bind_by_scene(user_id=shopper.user_id, scene=scene)
    except CommerceError as error:
        if error.error_code is LeaderError.SELF_BINDING:
            return texts.LEADER_SELF
        return texts.LEADER_UNAVAILABLE
    leader = bound.leader
    return texts.LEADER_BOUND.format(
        leader=leader.name, point=leader.point.name, address=leader.point.address
    )
