"""Reading KOLs: a shopper's own KOL record and dashboard (status, tier and its rates, code,
links, the attribution rules in words, today's and this month's figures from the funnel's
roll-ups), and the platform's lists (applications by status, a KOL's timeline)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from commerce import clock
from commerce.referrals import codes, tiers
from commerce.referrals.attribution import Rules
from commerce.referrals.errors import KolError
from commerce.referrals.models import Kol, KolEvent, KolQrCode, ReferralDaily
from commerce.referrals.rollups import COUNTERS
from commerce.referrals.states import KolStatus


@dataclass(frozen=True)
class KolView:
    id: int
    user_id: int
    code: str
    name: str
    phone: str  # raw: the edges mask it for anyone but the KOL
    intro: str
    status: KolStatus
    reason: str  # of a refusal or a suspension
    tier_id: int | None
    tier_name: str
    parent_kol_id: int | None
    parent_name: str
    applied_at: datetime
    reviewed_at: datetime | None


@dataclass(frozen=True)
class Figures:
    """A stretch of the funnel, all channels together (money in fen)."""

    touches: int = 0
    follows: int = 0
    customers: int = 0
    orders: int = 0
    paid_gmv: int = 0
    commission_pending: int = 0
    commission_earned: int = 0
    commission_reversed: int = 0


@dataclass(frozen=True)
class QrCodeView:
    scene: str
    url: str
    image_url: str


@dataclass(frozen=True)
class KolDashboard:
    kol: KolView
    tier: tiers.TierView | None
    rules: list[str]  # the attribution rules in words
    share_path: str | None  # the home page with the code; None until approved
    mp_code_scene: str | None
    qrcode: QrCodeView | None  # once made (GET /kol/qrcode makes it)
    today: Figures = field(default_factory=Figures)
    month: Figures = field(default_factory=Figures)


@dataclass(frozen=True)
class KolEventView:
    type: str
    from_status: str
    to_status: str
    actor: str
    params: dict
    created_at: datetime


async def get_kol(kol_id: int) -> KolView:
    kol = await Kol.get_or_none(id=kol_id)
    if kol is None:
        raise KolError.NOT_FOUND.error()
    return (await _views([kol]))[0]


async def kol_of_user(user_id: int) -> KolView:
    """The shopper's KOL record in any status, or kol_not_applied."""
    kol = await Kol.get_or_none(user_id=user_id)
    if kol is None:
        raise KolError.NOT_APPLIED.error()
    return (await _views([kol]))[0]


async def approved_kol_of(user_id: int) -> KolView:
    """The approved KOL this shopper is, or why not: the gate of links and codes."""
    view = await kol_of_user(user_id)
    if view.status is not KolStatus.APPROVED:
        raise KolError.NOT_APPROVED.error()
    return view


async def dashboard(*, user_id: int, rules: Rules) -> KolDashboard:
    """What a KOL sees of themself (403 kol_not_applied for a shopper who never applied)."""
    view = await kol_of_user(user_id)
    approved = view.status is KolStatus.APPROVED
    today = clock.to_shanghai(clock.now()).date()
    return KolDashboard(
        kol=view,
        tier=await tiers.get_tier(view.tier_id) if view.tier_id else None,
        rules=rules.in_words(),
        share_path=codes.share_path(view.code, codes.HOME_PAGE) if approved else None,
        mp_code_scene=codes.mp_code_scene(view.code) if approved else None,
        qrcode=await qrcode_of(view.id) if approved else None,
        today=await figures(view.id, start=today, end=today),
        month=await figures(view.id, start=today.replace(day=1), end=today),
    )


async def figures(kol_id: int, *, start: date, end: date) -> Figures:
    """The KOL's funnel summed over Asia/Shanghai days start..end and every channel."""
    rows = await ReferralDaily.filter(kol_id=kol_id, day__gte=start, day__lte=end).values(*COUNTERS)
    return Figures(**{name: sum(int(row[name] or 0) for row in rows) for name in COUNTERS})


async def qrcode_of(kol_id: int) -> QrCodeView | None:
    row = await KolQrCode.get_or_none(kol_id=kol_id)
    return QrCodeView(scene=row.scene, url=row.url, image_url=row.image_url) if row else None


async def kols(*, status: KolStatus | None = None, limit: int = 500) -> list[KolView]:
    """KOLs in a status (all when None): applications waiting the oldest first (first come,
    first reviewed), the others the newest first."""
    query = Kol.filter(status=status) if status else Kol.all()
    order = ("applied_at", "id") if status is KolStatus.APPLIED else ("-id",)
    return await _views(await query.order_by(*order).limit(limit))


async def applications_waiting() -> int:
    """How many KOL applications wait for review (the platform's dashboard)."""
    return await Kol.filter(status=KolStatus.APPLIED).count()


async def status_counts() -> dict[str, int]:
    counts = {s.value: 0 for s in KolStatus}
    for status in KolStatus:
        counts[status.value] = await Kol.filter(status=status).count()
    return counts


async def kol_events(kol_id: int) -> list[KolEventView]:
    """The KOL's timeline, oldest first."""
    rows = await KolEvent.filter(kol_id=kol_id).order_by("id")
    return [
        KolEventView(
            type=str(row.type),
            from_status=row.from_status,
            to_status=row.to_status,
            actor=row.actor,
            params=dict(row.params or {}),
            created_at=row.created_at,
        )
        for row in rows
    ]


async def recruits_count(kol_id: int) -> int:
    """The KOLs this one brought (their second level)."""
    return await Kol.filter(parent_kol_id=kol_id).count()


async def _views(rows: list[Kol]) -> list[KolView]:
    names = await tiers.tier_names()
    parent_ids = {row.parent_kol_id for row in rows if row.parent_kol_id}
    parents = dict(await Kol.filter(id__in=list(parent_ids)).values_list("id", "name")) if parent_ids else {}
    return [
        KolView(
            id=row.id,
            user_id=row.user_id,
            code=row.code,
            name=row.name,
            phone=row.phone,
            intro=row.intro,
            status=KolStatus(row.status),
            reason=row.reason,
            tier_id=row.tier_id,
            tier_name=names.get(row.tier_id, "") if row.tier_id else "",
            parent_kol_id=row.parent_kol_id,
            parent_name=parents.get(row.parent_kol_id, "") if row.parent_kol_id else "",
            applied_at=row.applied_at,
            reviewed_at=row.reviewed_at,
        )
        for row in rows
    ]
