"""Followers of the official account: who follows, through which QR scene, where they are,
and which shopper they are (by unionid)."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from commerce import clock
from commerce.users.models import Follower, FollowerTouch, TemplateReport, User
from commerce.users.services import Shopper

MAX_SCENE = 64


@dataclass(frozen=True)
class FollowerView:
    openid: str
    unionid: str | None
    subscribed: bool
    first_scene: str


async def record_follow(*, openid: str, unionid: str | None, scene: str = "") -> bool:
    """A follow (or a follow again); True for a follower never seen before. A QR scene is kept
    as a touch-point, and as the first scene of a new follower."""
    now, scene = clock.now(), scene[:MAX_SCENE]
    new = await _ensure(openid, unionid, scene)
    changes: dict[str, object] = {"subscribed": True, "subscribed_at": now, "updated_at": now}
    if unionid:
        changes["unionid"] = unionid
    await Follower.filter(openid=openid).update(**changes)
    if scene:
        await FollowerTouch.create(openid=openid, kind="subscribe", scene=scene, created_at=now)
    return new


async def record_unfollow(*, openid: str) -> None:
    now = clock.now()
    await _ensure(openid, None, "")
    await Follower.filter(openid=openid).update(subscribed=False, unsubscribed_at=now, updated_at=now)


async def record_scan(*, openid: str, scene: str) -> None:
    """A follower scanned a parametric QR code (SCAN): a touch-point."""
    await _ensure(openid, None, "")
    await FollowerTouch.create(openid=openid, kind="scan", scene=scene[:MAX_SCENE], created_at=clock.now())


async def record_location(*, openid: str, latitude: float, longitude: float, label: str) -> None:
    now = clock.now()
    await _ensure(openid, None, "")
    location = {"latitude": latitude, "longitude": longitude, "label": label[:200], "at": now.isoformat()}
    await Follower.filter(openid=openid).update(location=location, updated_at=now)


async def record_template_report(*, openid: str, msg_id: str, status: str) -> None:
    await TemplateReport.create(msg_id=msg_id[:32], openid=openid, status=status[:64], created_at=clock.now())


async def set_unionid(*, openid: str, unionid: str) -> None:
    await _ensure(openid, unionid, "")
    await Follower.filter(openid=openid, unionid=None).update(unionid=unionid, updated_at=clock.now())


async def get_follower(*, openid: str) -> FollowerView | None:
    row = await Follower.get_or_none(openid=openid)
    if row is None:
        return None
    return FollowerView(row.openid, row.unionid, row.subscribed, row.first_scene)


async def shopper_of(*, openid: str) -> Shopper | None:
    """The shopper this follower is, when the mini-program user with their unionid exists."""
    unionid = await Follower.filter(openid=openid).values_list("unionid", flat=True)
    if not unionid or not unionid[0]:
        return None
    user = await User.filter(unionid=unionid[0]).values_list("id", "openid")
    return Shopper(user_id=user[0][0], openid=user[0][1]) if user else None


async def openids_of_shopper(*, user_id: int) -> list[str]:
    """The followers (subscribed) who are this shopper, by unionid: where to tell them things."""
    unionid = await User.filter(id=user_id).values_list("unionid", flat=True)
    if not unionid or not unionid[0]:
        return []
    return list(await Follower.filter(unionid=unionid[0], subscribed=True).values_list("openid", flat=True))


async def _ensure(openid: str, unionid: str | None, scene: str) -> bool:
    """The follower's row, made on first sight (race-safe: the openid is unique)."""
    if await Follower.filter(openid=openid).exists():
        return False
    now = clock.now()
    try:
        await Follower.create(
            openid=openid,
            unionid=unionid,
            subscribed=True,
            subscribed_at=now,
            first_scene=scene,
            created_at=now,
            updated_at=now,
        )
    except IntegrityError:
        return False
    return True


async def unionid_of_shopper(*, user_id: int) -> str | None:
    """The shopper's unionid (None when WeChat gave none): how a follower becomes them."""
    unionid = await User.filter(id=user_id).values_list("unionid", flat=True)
    return unionid[0] if unionid and unionid[0] else None


async def nicknames_of(user_ids: list[int]) -> dict[int, str]:
    """user id -> nickname, for lists of shoppers (a leader's customers)."""
    if not user_ids:
        return {}
    return dict(await User.filter(id__in=user_ids).values_list("id", "nickname"))
