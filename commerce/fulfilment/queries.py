"""Reading fulfilments: what the shopper, the staff and WeChat's shipping upload see."""

from __future__ import annotations

from dataclasses import dataclass

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
    pickup_code: str = ""  # pickup: shown to its shopper while it waits at the point


@dataclass(frozen=True)
class PickupPointView:
    id: int
    name: str
    address: str
    merchant_id: int | None
    active: bool


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
    """The active points staff may verify at: a merchant's people their merchant's, the
    platform every point."""
    query = PickupPoint.filter(active=True)
    if merchant_id is not None:
        query = query.filter(merchant_id=merchant_id)
    return [
        PickupPointView(id=p.id, name=p.name, address=p.address, merchant_id=p.merchant_id, active=p.active)
        for p in await query.order_by("id")
    ]


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
        pickup_code=row.pickup_code if status is FulfilmentStatus.READY else "",
    )
