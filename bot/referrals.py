"""A follow or a scan through a KOL's QR code (scene "kol_CODE"): a touch for the follower's
shopper, or, for a follower who is no shopper yet, a touch remembered (by unionid) and given
to their user when they first sign in to the mini-program. The follower is welcomed by the
KOL's name; a code no longer valid gets the usual welcome (the follow itself stands)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot import texts
from commerce.errors import CommerceError
from commerce.referrals import scenes
from commerce.referrals.states import TouchChannel
from commerce.users import followers
from commerce.users.services import Shopper

ShopperOf = Callable[[str], Awaitable[Shopper | None]]
log = logging.getLogger(__name__)


def is_kol_scene(scene: str) -> bool:
    return scenes.code_of_scene(scene) is not None


async def touch_by_scene(
    *, openid: str, scene: str, followed: bool, shopper_of: ShopperOf, protection_days: int
) -> str:
    """What the bot answers after recording the touch (qr_follow for a follow, else qr_scan)."""
    shopper = await shopper_of(openid)
    follower = await followers.get_follower(openid=openid)
    try:
        touched = await scenes.touch_by_scene(
            scene=scene,
            channel=TouchChannel.QR_FOLLOW if followed else TouchChannel.QR_SCAN,
            user_id=shopper.user_id if shopper else None,
            unionid=follower.unionid if follower else None,
            protection_days=protection_days,
        )
    except CommerceError as error:
        log.info("KOL scene %r of %s not recorded: %s", scene, openid, error.code)
        return texts.WELCOME if followed else texts.WELCOME_BACK
    if touched.own:
        return texts.KOL_SELF
    if touched.pending:
        return texts.KOL_PENDING.format(kol=touched.kol_name)
    return (texts.KOL_WELCOME if followed else texts.KOL_WELCOME_BACK).format(kol=touched.kol_name)
