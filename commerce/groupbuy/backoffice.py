"""Group deals as their merchant's staff see them: the deals, and each deal's groups with
their members (masked) and orders. A merchant's people see their merchant's only (another's
is not found); the platform's see all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commerce.groupbuy import queries
from commerce.groupbuy.deals import scoped
from commerce.groupbuy.models import Group, GroupDeal, GroupSeat
from commerce.groupbuy.states import DealStatus, GroupStatus, SeatStatus
from commerce.users import directory


@dataclass(frozen=True)
class DealRow:
    id: int
    title: str
    merchant_id: int
    product_id: int
    group_size: int
    starts_at: datetime
    ends_at: datetime
    status: DealStatus
    groups: int
    succeeded: int


@dataclass(frozen=True)
class GroupRow:
    id: int
    status: GroupStatus
    size: int
    taken: int
    paid: int
    deadline: datetime
    seats: list[queries.SeatRow]


async def staff_deals(*, merchant_id: int | None) -> list[DealRow]:
    query = GroupDeal.all() if merchant_id is None else GroupDeal.filter(merchant_id=merchant_id)
    deals = await query.order_by("-id").limit(200)
    counts: dict[int, list[int]] = {d.id: [0, 0] for d in deals}
    for deal_id, status in await Group.filter(deal_id__in=list(counts) or [0]).values_list(
        "deal_id", "status"
    ):
        counts[deal_id][0] += 1
        counts[deal_id][1] += status == GroupStatus.SUCCEEDED
    return [
        DealRow(
            d.id,
            d.title,
            d.merchant_id,
            d.product_id,
            d.group_size,
            d.starts_at,
            d.ends_at,
            DealStatus(d.status),
            *counts[d.id],
        )
        for d in deals
    ]


async def staff_deal(*, deal_id: int, merchant_id: int | None) -> queries.DealFacts:
    return await scoped(deal_id, merchant_id)


async def staff_groups(*, deal_id: int, merchant_id: int | None) -> list[GroupRow]:
    await scoped(deal_id, merchant_id)
    groups = await Group.filter(deal_id=deal_id).order_by("-id").limit(200)
    seats = await GroupSeat.filter(group_id__in=[g.id for g in groups] or [0]).order_by("id")
    names = await directory.public_profiles([s.user_id for s in seats])
    rows = []
    for group in groups:
        rows.append(
            GroupRow(
                group.id,
                GroupStatus(group.status),
                group.size,
                group.taken,
                group.paid,
                group.deadline,
                [
                    queries.SeatRow(
                        s.id,
                        s.user_id,
                        names.get(s.user_id, ("", ""))[0],
                        s.order_id,
                        SeatStatus(s.status),
                        s.held_until,
                        s.paid_at,
                    )
                    for s in seats
                    if s.group_id == group.id
                ],
            )
        )
    return rows
