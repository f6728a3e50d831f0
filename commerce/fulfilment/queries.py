"""Reading fulfilments: what the shopper, the staff and WeChat's shipping upload see."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from tortoise.expressions import Q

from commerce.fulfilment.errors import FulfilmentError
from commerce.fulfilment.models import Fulfilment, PickupPoint
from commerce.fulfilment.states import FulfilmentKind, FulfilmentStatus


@dataclass(frozen=True)
class FulfilmentView:
    kind: FulfilmentKind
    status: FulfilmentStatus
    carrier: str = ""  # express
    tracking_no: str = ""  # express
    pickup_point_id: int | None = None  # pickup
    pickup_point_name: str = ""
    pickup_point_address: str = ""
    pickup_point_hours: str = ""
    pickup_code: str = ""  # pickup: shown to its shopper while it waits at the point


@dataclass(frozen=True)
class PickupPointView:
    id: int
    name: str
    address: str
    merchant_id: int | None
    active: bool
    opening_hours: str = ""
    contact_phone: str = ""
    community: bool = False  # a leader's: community sales' orders only


async def fulfilments_of(order_ids: list[int]) -> dict[int, FulfilmentView]:
    """order id -> its fulfilment, for those that have one."""
    if not order_ids:
        return {}
    rows = await Fulfilment.filter(order_id__in=order_ids)
    points = {
        p.id: p
        for p in await PickupPoint.filter(id__in=[r.pickup_point_id for r in rows if r.pickup_point_id])
    }
    return {row.order_id: _view(row, points.get(row.pickup_point_id)) for row in rows}


async def fulfilment_of(order_id: int) -> FulfilmentView | None:
    return (await fulfilments_of([order_id])).get(order_id)


async def pickup_points(*, merchant_id: int | None) -> list[PickupPointView]:
    """The points staff may verify at, open ones first (a closed point still hands over what
    waits there): a merchant's people their merchant's, the platform every point."""
    query = PickupPoint.all() if merchant_id is None else PickupPoint.filter(merchant_id=merchant_id)
    return [point_view(p) for p in await query.order_by("-active", "id")]


async def points_serving(merchant_ids: Collection[int]) -> list[PickupPointView]:
    """The active points where a checkout of these merchants' orders may be collected: the
    platform's points, and a merchant's own when the checkout holds that merchant only."""
    merchants = set(merchant_ids)
    if not merchants:
        return []
    serving = Q(merchant_id__isnull=True)
    if len(merchants) == 1:
        serving |= Q(merchant_id=next(iter(merchants)))
    points = PickupPoint.filter(serving, active=True, community=False)  # leaders' serve their sales
    return [point_view(p) for p in await points.order_by("id")]


def serves(point: PickupPointView, merchant_id: int) -> bool:
    """A point serves a merchant's order when it is the platform's or that merchant's."""
    return point.merchant_id is None or point.merchant_id == merchant_id


async def staff_points(*, merchant_id: int | None) -> list[PickupPointView]:
    """Every point staff may see in the admin, closed ones too: a merchant's people their
    merchant's, the platform's people all (the platform's first)."""
    query = PickupPoint.all() if merchant_id is None else PickupPoint.filter(merchant_id=merchant_id)
    rows = await query
    rows.sort(key=lambda p: (p.merchant_id is not None, p.merchant_id or 0, p.id))
    return [point_view(p) for p in rows]


async def staff_point(*, point_id: int, merchant_id: int | None) -> PickupPointView:
    """One point as staff may see it: another merchant's is not found."""
    point = await PickupPoint.get_or_none(id=point_id)
    if point is None or (merchant_id is not None and point.merchant_id != merchant_id):
        raise FulfilmentError.POINT_NOT_FOUND.error()
    return point_view(point)


@dataclass(frozen=True)
class LocatedPoint:
    """A point with its place (WGS-84 degrees), for maps and the nearest points."""

    id: int
    name: str
    address: str
    opening_hours: str
    active: bool
    latitude: float | None
    longitude: float | None


async def open_points_in_box(*, south: float, north: float, west: float, east: float) -> list[LocatedPoint]:
    """Open points inside a latitude/longitude box: one range read on the (latitude, longitude)
    index (no other condition the planner could prefer an index for: the caller keeps the
    points it wants, e.g. leaders')."""
    rows = await PickupPoint.filter(
        latitude__gte=south, latitude__lte=north, longitude__gte=west, longitude__lte=east, active=True
    ).values_list(*_LOCATED)  # plain tuples: a box may hold a few hundred points
    return [LocatedPoint(*row) for row in rows]


_LOCATED = ("id", "name", "address", "opening_hours", "active", "latitude", "longitude")


async def located_points(point_ids: Collection[int]) -> dict[int, LocatedPoint]:
    """point id -> the point with its place, open or closed."""
    if not point_ids:
        return {}
    return {p.id: located(p) for p in await PickupPoint.filter(id__in=list(point_ids))}


def located(point: PickupPoint) -> LocatedPoint:
    return LocatedPoint(
        id=point.id,
        name=point.name,
        address=point.address,
        opening_hours=point.opening_hours,
        active=point.active,
        latitude=point.latitude,
        longitude=point.longitude,
    )


def point_view(point: PickupPoint) -> PickupPointView:
    return PickupPointView(
        id=point.id,
        name=point.name,
        address=point.address,
        merchant_id=point.merchant_id,
        active=point.active,
        opening_hours=point.opening_hours,
        contact_phone=point.contact_phone,
        community=point.community,
    )


def _view(row: Fulfilment, point: PickupPoint | None) -> FulfilmentView:
    status = FulfilmentStatus(row.status)
    return FulfilmentView(
        kind=FulfilmentKind(row.kind),
        status=status,
        carrier=row.carrier,
        tracking_no=row.tracking_no,
        pickup_point_id=row.pickup_point_id,
        pickup_point_name=point.name if point else "",
        pickup_point_address=point.address if point else "",
        pickup_point_hours=point.opening_hours if point else "",
        pickup_code=row.pickup_code if status is FulfilmentStatus.READY else "",
    )
