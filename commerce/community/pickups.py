"""Pickup by community shoppers: the leader verifies a shopper's code at their own point (once:
fulfilment's conditional update), and orders still waiting N days after their batch arrived
are flagged to the leader and the platform (a job; one flag per order, by a unique order id).
Also the leader's view of today's orders at their point."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from commerce import clock
from commerce.community import sale_queries
from commerce.community.models import Batch, CommunityOrder, UnclaimedFlag
from commerce.community.sale_queries import LeaderIdentity
from commerce.community.states import BatchStatus
from commerce.fulfilment import queries as fulfilment
from commerce.fulfilment import services as fulfilment_services
from commerce.fulfilment.states import FulfilmentStatus
from commerce.orders import queries as orders
from commerce.payouts.services import mask_name
from commerce.users.services import mask_phone


async def verify_pickup_code(*, user_id: int, code: str) -> int:
    """The approved leader this shopper is verifies a code at their own point: the order's id.
    A code of another point is pickup_wrong_point, used once already pickup_code_used."""
    leader = await sale_queries.approved_leader_of(user_id=user_id)
    return await fulfilment_services.verify_pickup(
        point_id=leader.pickup_point_id, code=code, merchant_id=None, actor=f"leader:{leader.id}"
    )


async def flag_unclaimed(*, after_days: int, limit: int = 500) -> int:
    """Flag the orders of batches arrived more than `after_days` ago still waiting at their
    point; how many were flagged now (a second run flags nothing twice)."""
    before = clock.now() - timedelta(days=after_days)
    batches = await Batch.filter(status=BatchStatus.ARRIVED, arrived_at__lte=before).order_by("id")
    flagged = 0
    for batch in batches:
        order_ids = list(await CommunityOrder.filter(batch_id=batch.id).values_list("order_id", flat=True))
        known = set(
            await UnclaimedFlag.filter(order_id__in=order_ids or [0]).values_list("order_id", flat=True)
        )
        waiting = await fulfilment.fulfilments_of([o for o in order_ids if o not in known])
        for order_id, found in waiting.items():
            if found.status is not FulfilmentStatus.READY or flagged >= limit:
                continue
            try:
                await UnclaimedFlag.create(
                    order_id=order_id,
                    batch_id=batch.id,
                    leader_id=batch.leader_id,
                    pickup_point_id=batch.pickup_point_id,
                    arrived_at=batch.arrived_at,
                    flagged_at=clock.now(),
                )
                flagged += 1
            except IntegrityError:  # another runner flagged it meanwhile
                continue
    return flagged


@dataclass(frozen=True)
class UnclaimedView:
    order_id: int
    order_no: str
    batch_id: int
    leader_id: int
    pickup_point_id: int
    arrived_at: datetime
    flagged_at: datetime
    still_waiting: bool


async def unclaimed(
    *, leader_id: int | None = None, batch_ids: list[int] | None = None
) -> list[UnclaimedView]:
    """The flags: a leader's own, or of these batches, or every one (the platform)."""
    query = UnclaimedFlag.all()
    if leader_id is not None:
        query = query.filter(leader_id=leader_id)
    if batch_ids is not None:
        query = query.filter(batch_id__in=batch_ids or [0])
    flags = await query.order_by("-id").limit(500)
    numbers = await orders.order_numbers({f.order_id for f in flags})
    states = await fulfilment.fulfilments_of([f.order_id for f in flags])
    return [
        UnclaimedView(
            f.order_id,
            numbers.get(f.order_id, ""),
            f.batch_id,
            f.leader_id,
            f.pickup_point_id,
            f.arrived_at,
            f.flagged_at,
            f.order_id in states and states[f.order_id].status is FulfilmentStatus.READY,
        )
        for f in flags
    ]


@dataclass(frozen=True)
class LeaderOrderView:
    order_id: int
    order_no: str
    shopper: str  # masked
    phone: str  # masked
    summary: str
    payable: int
    paid_at: datetime | None
    batch_id: int | None
    pickup_status: str  # awaiting / ready / picked_up


async def orders_today(*, leader: LeaderIdentity) -> list[LeaderOrderView]:
    """The community orders paid today (Asia/Shanghai) to be collected at the leader's point."""
    today = clock.to_shanghai(clock.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = await CommunityOrder.filter(
        pickup_point_id=leader.pickup_point_id, paid_at__gte=today, paid_at__isnull=False
    ).order_by("paid_at", "id")
    return await order_views([row.order_id for row in rows], {r.order_id: r for r in rows})


async def order_views(
    order_ids: list[int], rows: dict[int, CommunityOrder] | None = None
) -> list[LeaderOrderView]:
    if rows is None:
        rows = {r.order_id: r for r in await CommunityOrder.filter(order_id__in=order_ids or [0])}
    states = await fulfilment.fulfilments_of(order_ids)
    views = []
    facts_of = await orders.orders_facts(order_ids)
    for order_id in order_ids:
        facts = facts_of.get(order_id)
        if facts is None:
            continue
        name = str(facts.address.get("receiver_name", ""))
        views.append(
            LeaderOrderView(
                order_id=order_id,
                order_no=facts.order_no,
                shopper=mask_name(name) if name else "",
                phone=mask_phone(str(facts.address.get("phone", ""))),
                summary=facts.summary,
                payable=facts.payable,
                paid_at=facts.paid_at,
                batch_id=rows[order_id].batch_id if order_id in rows else None,
                pickup_status=states[order_id].status.value if order_id in states else "",
            )
        )
    return views
