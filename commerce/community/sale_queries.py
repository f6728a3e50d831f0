"""Who a shopper is to the community sales: the approved leader they are (the leader API's
identity, as the leaders' queries give it), the leader a point belongs to, the leader bound
to a shopper at a moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commerce.community import queries
from commerce.community.models import Leader, LeaderBindingChange
from commerce.community.states import LeaderStatus


@dataclass(frozen=True)
class LeaderIdentity:
    id: int
    user_id: int
    name: str
    pickup_point_id: int


async def approved_leader_of(*, user_id: int) -> LeaderIdentity:
    """The approved leader this shopper is; anyone else is refused (leader_not_applied,
    leader_not_approved), as by the rest of the leader's API."""
    leader = await queries.approved_leader_of(user_id)
    return LeaderIdentity(leader.id, leader.user_id, leader.name, leader.point.id)


async def leaders_of_points(point_ids: list[int]) -> dict[int, int]:
    """point id -> the leader whose point it is (any status)."""
    if not point_ids:
        return {}
    rows = await Leader.filter(pickup_point_id__in=point_ids).values_list("pickup_point_id", "id")
    return dict(rows)


async def leader_bound_at(*, user_id: int, moment: datetime) -> int | None:
    """The leader the shopper was bound to at that moment: the last binding they took at or
    before it (a later switch does not count), if that leader is approved now."""
    change = (
        await LeaderBindingChange.filter(user_id=user_id, created_at__lte=moment)
        .order_by("-created_at", "-id")
        .first()
    )
    if change is None:
        return None
    approved = await Leader.exists(id=change.leader_id, status=LeaderStatus.APPROVED)
    return change.leader_id if approved else None
