"""Shoppers as staff look them up: masked by default; a full phone number is revealed only on
an explicit request, which is recorded."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from commerce.audit import services as audit
from commerce.users.errors import UserError
from commerce.users.models import Follower, FollowerTouch, User
from commerce.users.services import mask_phone

_MASKED = re.compile(r"^(1\d{2})\*{4}(\d{4})$")
_LAST_FOUR = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class ShopperSummary:
    id: int
    nickname: str
    openid: str
    phone_masked: str
    created_at: datetime


@dataclass(frozen=True)
class Touch:
    kind: str
    scene: str
    at: datetime


@dataclass(frozen=True)
class ShopperProfile:
    summary: ShopperSummary
    follows_official_account: bool
    touches: list[Touch]  # attribution: QR scenes followed or scanned through


SCAN_BATCH, SCAN_LIMIT = 500, 20_000
# Which of these user ids to keep (a merchant's customers, say).
Keep = Callable[[set[int]], Awaitable[set[int]]]


async def search_shoppers(*, text: str, limit: int = 50, keep: Keep | None = None) -> list[ShopperSummary]:
    """By nickname (part of it), openid (whole), or phone as shown masked (138****8000) or its
    last four digits, newest first; only those `keep` keeps when given (a merchant's customers:
    matches are read in batches and passed through it, up to SCAN_LIMIT of them)."""
    query = _matching((text or "").strip()[:64])
    if keep is None:
        return [_summary(u) for u in await query.order_by("-id").limit(limit)]
    found: list[ShopperSummary] = []
    for offset in range(0, SCAN_LIMIT, SCAN_BATCH):
        batch = await query.order_by("-id").offset(offset).limit(SCAN_BATCH)
        kept = await keep({u.id for u in batch})
        found += [_summary(u) for u in batch if u.id in kept]
        if len(found) >= limit or len(batch) < SCAN_BATCH:
            break
    return found[:limit]


def _matching(text: str):
    query = User.all()
    if masked := _MASKED.match(text):
        query = query.filter(phone__startswith=masked.group(1), phone__endswith=masked.group(2))
    elif _LAST_FOUR.match(text):
        query = query.filter(phone__endswith=text)
    elif text:
        query = query.filter(Q(nickname__icontains=text) | Q(openid=text))
    return query


async def shopper_profile(*, user_id: int) -> ShopperProfile:
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise UserError.SHOPPER_NOT_FOUND.error()
    openids = (
        await Follower.filter(unionid=user.unionid).values_list("openid", "subscribed")
        if user.unionid
        else []
    )
    touches = (
        await FollowerTouch.filter(openid__in=[o for o, _ in openids]).order_by("-id").limit(50)
        if openids
        else []
    )
    return ShopperProfile(
        summary=_summary(user),
        follows_official_account=any(subscribed for _, subscribed in openids),
        touches=[Touch(t.kind, t.scene, t.created_at) for t in touches],
    )


async def reveal_phone(*, user_id: int, actor: str) -> str:
    """The full phone number, for someone whose role allows it; the look is recorded."""
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise UserError.SHOPPER_NOT_FOUND.error()
    await audit.record(
        actor=actor,
        action="user.reveal_phone",
        object_type="user",
        object_id=user.id,
        summary=f"查看用户 {user.id} 的手机号",
    )
    return user.phone


def _summary(user: User) -> ShopperSummary:
    return ShopperSummary(
        id=user.id,
        nickname=user.nickname,
        openid=user.openid,
        phone_masked=mask_phone(user.phone) if user.phone else "",
        created_at=user.created_at,
    )


def mask_nickname(nickname: str) -> str:
    """What strangers see of a nickname: its first character and a star (微信用户 when empty)."""
    return (nickname[0] + "*") if nickname else "微信用户"


async def public_profiles(user_ids: list[int]) -> dict[int, tuple[str, str]]:
    """user id -> (masked nickname, avatar URL): how a shopper shows to other shoppers."""
    rows = await User.filter(id__in=list(set(user_ids)) or [0]).values_list("id", "nickname", "avatar_url")
    return {uid: (mask_nickname(nickname), avatar) for uid, nickname, avatar in rows}
