"""Reading leaders: a shopper's application, the leader a shopper is bound to, a leader's
customers, and the platform's lists (applications to review, leaders with their figures,
leaders' points with their coordinates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Count

from commerce.community.errors import LeaderError
from commerce.community.models import CommunityOrder, Leader, LeaderBinding, LeaderEvent, LeaderQrCode
from commerce.community.states import BindingSource, LeaderStatus
from commerce.fulfilment import queries as fulfilment
from commerce.fulfilment.queries import LocatedPoint
from commerce.users import followers


@dataclass(frozen=True)
class LeaderView:
    id: int
    user_id: int
    name: str
    phone: str  # raw: the edges mask it for anyone but the leader
    status: LeaderStatus
    reason: str  # of a refusal or a suspension
    share_code: str
    photo: str
    point: LocatedPoint
    applied_at: datetime
    reviewed_at: datetime | None
    reviewed_by: str


@dataclass(frozen=True)
class BoundLeader:
    """The leader a shopper is bound to now, and how."""

    leader_id: int
    name: str
    point: LocatedPoint
    source: BindingSource
    bound_at: datetime


@dataclass(frozen=True)
class Customer:
    user_id: int
    nickname: str
    source: BindingSource
    bound_at: datetime


@dataclass(frozen=True)
class LeaderRow:
    """A leader on the platform's list, with their figures."""

    leader: LeaderView
    customers: int
    orders: int  # community orders paid with them stamped as the leader


@dataclass(frozen=True)
class QrCodeView:
    scene: str
    url: str
    image_url: str


def share_path(share_code: str) -> str:
    """The mini-program page a leader's share link opens (it binds the shopper who opens it)."""
    return f"pages/index/index?leader={share_code}"


def scene_of(share_code: str) -> str:
    """The official-account QR code's scene of a leader."""
    return f"leader_{share_code}"


async def leader_view(leader: Leader) -> LeaderView:
    points = await fulfilment.located_points([leader.pickup_point_id])
    return _view(leader, points[leader.pickup_point_id])


async def application_of(user_id: int) -> LeaderView | None:
    """The shopper's application (any status), or None if they never applied."""
    leader = await Leader.get_or_none(user_id=user_id)
    return await leader_view(leader) if leader else None


async def leader_of_user(user_id: int) -> LeaderView | None:
    """The approved leader this user is, or None (applied, refused, suspended, never applied)."""
    leader = await Leader.get_or_none(user_id=user_id, status=LeaderStatus.APPROVED)
    return await leader_view(leader) if leader else None


async def approved_leader_of(user_id: int) -> LeaderView:
    """The approved leader this user is, or why not: the gate of the leader's own API."""
    leader = await Leader.get_or_none(user_id=user_id)
    if leader is None:
        raise LeaderError.NOT_APPLIED.error()
    if leader.status != LeaderStatus.APPROVED:
        raise LeaderError.NOT_APPROVED.error()
    return await leader_view(leader)


async def get_leader(leader_id: int) -> LeaderView:
    leader = await Leader.get_or_none(id=leader_id)
    if leader is None:
        raise LeaderError.NOT_FOUND.error()
    return await leader_view(leader)


async def bound_leader(user_id: int) -> BoundLeader | None:
    """The approved leader the shopper is bound to now (None when unbound, or their leader is
    suspended): the one stamped on an order at its payment."""
    binding = await LeaderBinding.get_or_none(user_id=user_id)
    if binding is None:
        return None
    leader = await Leader.get_or_none(id=binding.leader_id, status=LeaderStatus.APPROVED)
    if leader is None:
        return None
    point = (await fulfilment.located_points([leader.pickup_point_id]))[leader.pickup_point_id]
    return BoundLeader(
        leader_id=leader.id,
        name=leader.name,
        point=point,
        source=BindingSource(binding.source),
        bound_at=binding.bound_at,
    )


async def customers_count(leader_id: int) -> int:
    return await LeaderBinding.filter(leader_id=leader_id).count()


async def customers_of(leader_id: int, *, page: int = 1, page_size: int = 20) -> list[Customer]:
    """The shoppers bound to the leader now, the latest first."""
    rows = (
        await LeaderBinding.filter(leader_id=leader_id)
        .order_by("-bound_at", "-id")
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    names = await followers.nicknames_of([row.user_id for row in rows])
    return [
        Customer(
            user_id=row.user_id,
            nickname=names.get(row.user_id, ""),
            source=BindingSource(row.source),
            bound_at=row.bound_at,
        )
        for row in rows
    ]


async def qrcode_of(leader_id: int) -> QrCodeView | None:
    row = await LeaderQrCode.get_or_none(leader_id=leader_id)
    return QrCodeView(scene=row.scene, url=row.url, image_url=row.image_url) if row else None


async def applications_waiting() -> int:
    """How many leader applications wait for review (the platform's dashboard)."""
    return await Leader.filter(status=LeaderStatus.APPLIED).count()


async def applications(*, limit: int = 200) -> list[LeaderView]:
    """Applications waiting for review, the oldest first (first come, first reviewed)."""
    rows = await Leader.filter(status=LeaderStatus.APPLIED).order_by("applied_at", "id").limit(limit)
    return await _views(rows)


async def leaders_with_figures(*, status: LeaderStatus | None = None, limit: int = 500) -> list[LeaderRow]:
    """Leaders (all but those waiting for review, unless asked) with their customers and orders."""
    query = Leader.filter(status=status) if status else Leader.exclude(status=LeaderStatus.APPLIED)
    rows = await query.order_by("-id").limit(limit)
    ids = [row.id for row in rows]
    customers = dict(
        await LeaderBinding.filter(leader_id__in=ids)
        .group_by("leader_id")
        .annotate(n=Count("id"))
        .values_list("leader_id", "n")
    )
    orders = dict(
        await CommunityOrder.filter(leader_id__in=ids, paid_at__isnull=False)
        .group_by("leader_id")
        .annotate(n=Count("id"))
        .values_list("leader_id", "n")
    )
    return [
        LeaderRow(leader=view, customers=customers.get(view.id, 0), orders=orders.get(view.id, 0))
        for view in await _views(rows)
    ]


async def leader_points(*, limit: int = 1000) -> list[LeaderView]:
    """Every leader with their point and its coordinates (open or closed), for the map list."""
    rows = await Leader.all().order_by("id").limit(limit)
    return await _views(rows)


async def _views(rows: list[Leader]) -> list[LeaderView]:
    points = await fulfilment.located_points([row.pickup_point_id for row in rows])
    return [_view(row, points[row.pickup_point_id]) for row in rows]


def _view(leader: Leader, point: LocatedPoint) -> LeaderView:
    return LeaderView(
        id=leader.id,
        user_id=leader.user_id,
        name=leader.name,
        phone=leader.phone,
        status=LeaderStatus(leader.status),
        reason=leader.reason,
        share_code=leader.share_code,
        photo=leader.photo,
        point=point,
        applied_at=leader.applied_at,
        reviewed_at=leader.reviewed_at,
        reviewed_by=leader.reviewed_by,
    )


@dataclass(frozen=True)
class LeaderEventView:
    type: str
    from_status: str
    to_status: str
    actor: str
    params: dict
    created_at: datetime


async def leader_events(leader_id: int) -> list[LeaderEventView]:
    """The leader's timeline, oldest first."""
    rows = await LeaderEvent.filter(leader_id=leader_id).order_by("id")
    return [
        LeaderEventView(
            type=str(row.type),
            from_status=row.from_status,
            to_status=row.to_status,
            actor=row.actor,
            params=dict(row.params or {}),
            created_at=row.created_at,
        )
        for row in rows
    ]


def mask_nickname(nickname: str) -> str:
    """张** : enough for the leader to recognise a neighbour, no more."""
    if not nickname:
        return "微信用户"
    return nickname[0] + "*" * min(max(len(nickname) - 1, 1), 4)
