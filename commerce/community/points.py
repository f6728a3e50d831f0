"""The nearest open leaders' points to a shopper's location.

An indexed bounding box in the database, not Redis GEO. The points live in the database and
change there (approval, suspension, a leader moving their point, staff closing a point in the
pickup points page, which knows nothing of a GEO set); a GEO set would be a second copy to
rebuild at start and keep in step with every one of those writes in every worker, for no
gain at our size: a city has hundreds to a few thousand points, and a box of a few km on the
(latitude, longitude) index reads a handful of rows. So: read the open points in a box around
the shopper, keep those within the radius by great-circle distance, sort, cut to the limit;
widen the box (doubling) while fewer than `limit` were found, up to MAX_RADIUS_M.

The box is not wrapped across the antimeridian nor the poles (China is far from both)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from commerce.community.leaders import check_location
from commerce.community.models import Leader
from commerce.community.states import LeaderStatus
from commerce.fulfilment import queries as fulfilment
from commerce.fulfilment.queries import LocatedPoint

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
FIRST_RADIUS_M = 3_000
MAX_RADIUS_M = 50_000
MAX_LIMIT = 50
_M_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180


@dataclass(frozen=True)
class NearPoint:
    point: LocatedPoint
    leader_id: int
    leader_name: str
    distance_m: int


async def nearest_points(
    *, latitude: float, longitude: float, limit: int = 10, max_radius_m: int = MAX_RADIUS_M
) -> list[NearPoint]:
    """The open points of approved leaders nearest to (latitude, longitude), nearest first,
    within max_radius_m; at most `limit`."""
    check_location(latitude, longitude)
    limit = max(1, min(limit, MAX_LIMIT))
    radius = min(FIRST_RADIUS_M, max_radius_m)
    while True:
        found = await _within(latitude, longitude, radius)
        if len(found) >= limit or radius >= max_radius_m:
            return found[:limit]
        radius = min(radius * 2, max_radius_m)


async def _within(latitude: float, longitude: float, radius_m: float) -> list[NearPoint]:
    dlat = radius_m / _M_PER_DEGREE
    # A degree of longitude shrinks with the latitude's cosine (floor: near the poles).
    dlng = radius_m / (_M_PER_DEGREE * max(math.cos(math.radians(latitude)), 0.01))
    points = await fulfilment.open_points_in_box(
        south=latitude - dlat, north=latitude + dlat, west=longitude - dlng, east=longitude + dlng
    )
    leaders = {
        point_id: (leader_id, name)
        for leader_id, point_id, name in await Leader.filter(
            pickup_point_id__in=[p.id for p in points], status=LeaderStatus.APPROVED
        ).values_list("id", "pickup_point_id", "name")
    }
    near = []
    for point in points:
        if point.id not in leaders or point.latitude is None or point.longitude is None:
            continue
        distance = distance_m(latitude, longitude, point.latitude, point.longitude)
        if distance <= radius_m:
            leader_id, name = leaders[point.id]
            near.append(
                NearPoint(point=point, leader_id=leader_id, leader_name=name, distance_m=round(distance))
            )
    near.sort(key=lambda n: (n.distance_m, n.point.id))
    return near


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
