"""KOL referral builders: an approved KOL (in the default tier) for a shopper, through the KOLs'
own services (apply, then approve), and a touch of their code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commerce.referrals import kols, tiers, touches
from commerce.referrals.models import Kol, KolTier
from commerce.referrals.states import TouchChannel


@dataclass(frozen=True)
class KolRow:
    id: int
    user_id: int
    code: str
    tier_id: int


async def default_tier(*, rate_bps: int = 500, second_level_bps: int = 0, name: str = "标准") -> int:
    """The tier of this name (made with these rates if it is new; "标准" is the settings' default)."""
    tier = await KolTier.get_or_none(name=name)
    if tier is not None:
        return tier.id
    made = await tiers.create_tier(
        name=name, rate_bps=rate_bps, second_level_bps=second_level_bps, actor="staff:builder"
    )
    return made.id


async def approved_kol(
    *, user_id: int, name: str = "小红", parent_kol_id: int | None = None, tier_id: int | None = None
) -> KolRow:
    """The shopper applies (by the code of the KOL parent_kol_id, if given) and is approved."""
    tier_id = tier_id or await default_tier()
    referrer = (await Kol.get(id=parent_kol_id)).code if parent_kol_id is not None else ""
    applied = await kols.apply(
        user_id=user_id,
        application=kols.Application(
            name=name, phone="13800138000", intro="小红书美妆博主，粉丝 3 万", referrer_code=referrer
        ),
    )
    if parent_kol_id is not None:
        assert applied.parent_kol_id == parent_kol_id, "the parent KOL must be approved (not the shopper)"
    kol = await kols.approve(
        kol_id=applied.id, tier_id=tier_id, default=tiers.DefaultTier("标准", 500), actor="staff:builder"
    )
    return KolRow(kol.id, user_id, kol.code, tier_id)


async def touched(
    kol: KolRow,
    user_id: int | None,
    *,
    at: datetime | None = None,
    channel: TouchChannel = TouchChannel.LINK,
    protection_days: int = 30,
) -> touches.Touched:
    """A touch of the KOL's code by this shopper (None: an anonymous visitor), written at once."""
    return await touches.touch(
        touch=touches.Touch(code=kol.code, channel=channel, user_id=user_id, at=at),
        protection_days=protection_days,
    )
