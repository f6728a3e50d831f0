"""Touches through a KOL's official-account QR code (scene "kol_CODE"; "qrscene_kol_CODE" when
the scan is a follow): written at once (a handful per second at most), for the follower's
shopper when they have one. A follower who is no shopper yet is remembered by unionid
(PendingReferral) and their touch is given to their user when they first sign in to the
mini-program, with its original time and channel: the touch row (written at the follow, with
the visitor "wx:<unionid>") gets its user, and the customer row is made as the touch would
have made it then. A follower keeps the first KOL who brought them (a later scan before
sign-in counts in that KOL's funnel but does not replace the pending one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError

from commerce import clock
from commerce.db import execute, insert, model_row
from commerce.referrals import customers, rollups, touches
from commerce.referrals.models import Kol, PendingReferral
from commerce.referrals.states import KolStatus, TouchChannel
from commerce.transactions import unit_of_work, write_transaction
from commerce.users import followers

SCENE_PREFIX = "kol_"


@dataclass(frozen=True)
class SceneTouched:
    kol_name: str
    own: bool  # the KOL scanned their own code
    pending: bool  # no shopper yet: given to their user at sign-in


def code_of_scene(scene: str) -> str | None:
    """The referral code a QR scene carries ("kol_CODE", with or without WeChat's qrscene_)."""
    scene = (scene or "").removeprefix("qrscene_")
    code = scene.removeprefix(SCENE_PREFIX)
    return code if scene.startswith(SCENE_PREFIX) and code else None


def scene_of(code: str) -> str:
    return f"{SCENE_PREFIX}{code}"


def visitor_of(unionid: str) -> str:
    return f"wx:{unionid}"[:64]


async def touch_by_scene(
    *,
    scene: str,
    channel: TouchChannel,
    user_id: int | None,
    unionid: str | None,
    protection_days: int,
) -> SceneTouched:
    """Record the follow or scan (referral_code_invalid when the scene's KOL is not approved)."""
    if channel not in (TouchChannel.QR_FOLLOW, TouchChannel.QR_SCAN):
        raise ValueError(f"not a QR channel: {channel}")
    owner = await touches.owner_of_code(code_of_scene(scene) or "")
    at = clock.now()
    touched = await touches.touch(
        touch=touches.Touch(
            code=code_of_scene(scene) or "",
            channel=channel,
            user_id=user_id,
            visitor=visitor_of(unionid) if unionid else "",
            at=at,
        ),
        protection_days=protection_days,
    )
    pending = False
    if user_id is None and unionid:
        await _remember(unionid=unionid, kol_id=owner.kol_id, channel=channel, at=at)
        pending = True
    return SceneTouched(owner.name, touched.own, pending)


@unit_of_work
async def _remember(*, unionid: str, kol_id: int, channel: TouchChannel, at: datetime) -> None:
    try:
        async with write_transaction() as conn:
            await insert(
                "referral_pending",
                model_row(
                    PendingReferral, {"unionid": unionid, "kol_id": kol_id, "channel": channel, "at": at}
                ),
                connection=conn,
            )
    except IntegrityError:
        pass  # they were brought by a KOL before: the first one keeps them


@unit_of_work
async def give_pending(*, user_id: int, protection_days: int) -> bool:
    """At sign-in: the touch a follower made through a KOL's QR code before they were a
    shopper becomes theirs (original time and channel). Taken once (the row is deleted by
    whoever takes it); a KOL suspended since, or the shopper's own code, binds nobody. True
    when it was given."""
    unionid = await followers.unionid_of_shopper(user_id=user_id)
    if unionid is None:
        return False
    pending = await PendingReferral.get_or_none(unionid=unionid)
    if pending is None:
        return False
    kol = await Kol.get_or_none(id=pending.kol_id)
    async with write_transaction() as conn:
        if not await PendingReferral.filter(id=pending.id).using_db(conn).delete():
            return False  # another sign-in took it
        if kol is None or kol.status is not KolStatus.APPROVED or kol.user_id == user_id:
            return False
        await execute(
            "UPDATE `referral_touch` SET `user_id` = ?"
            " WHERE `kol_id` = ? AND `at` = ? AND `visitor` = ? AND `user_id` IS NULL",
            [user_id, kol.id, pending.at, visitor_of(unionid)],
            connection=conn,
        )
        channel = TouchChannel(pending.channel)
        new = await customers.touched(
            conn,
            customers.CustomerTouch(user_id, kol.id, channel, pending.at),
            protection_days=protection_days,
        )
        if new:
            await rollups.bump(conn, kol_id=kol.id, at=pending.at, channel=channel, customers=1)
    return True
