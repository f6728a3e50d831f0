"""Seats in groups: every change is one conditional UPDATE whose row count says whether it
happened (never read, check, write), so racing shoppers and servers never put N+1 in a group.

`taken` counts held and paid seats, `paid` the paid ones: a hold needs taken < size, a payment
paid < size, both only while the group forms and before its deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from tortoise.expressions import F

from commerce import clock
from commerce.groupbuy import queries
from commerce.groupbuy.errors import GroupBuyError
from commerce.groupbuy.models import Group, GroupEvent, GroupSeat
from commerce.groupbuy.states import GroupEventType, GroupStatus, SeatStatus
from commerce.lifecycle import append_event_row
from commerce.pricing.pipeline import Claim

LIVE = (SeatStatus.HELD, SeatStatus.PAID)


def _forming(group_id: int, now: datetime):
    return Group.filter(id=group_id, status=GroupStatus.FORMING, deadline__gt=now)


async def record(conn, group_id: int, type_: GroupEventType, actor: str, **params) -> None:
    table = GroupEvent._meta.db_table
    await append_event_row(conn, table, ("group_id", group_id), type_, actor, params=params)


async def open_group(conn, deal: queries.DealFacts, *, opener_id: int, now: datetime, paid: int = 0) -> int:
    """A new forming group of the deal with its first seat counted (taken 1, paid as told)."""
    deadline = min(now + timedelta(minutes=deal.time_limit_minutes), deal.ends_at)
    group = await Group.create(
        deal_id=deal.id,
        opener_id=opener_id,
        size=deal.group_size,
        taken=1,
        paid=paid,
        status=GroupStatus.FORMING,
        deadline=deadline,
        created_at=now,
        updated_at=now,
        using_db=conn,
    )
    await record(conn, group.id, GroupEventType.OPENED, f"shopper:{opener_id}", opener_id=opener_id)
    return group.id


async def take_one_held(conn, group_id: int, now: datetime, *, deal_id: int) -> bool:
    """Count one more held seat in the deal's group, if one is left."""
    query = _forming(group_id, now).filter(deal_id=deal_id, taken__lt=F("size"))
    return bool(await query.using_db(conn).update(taken=F("taken") + 1))


async def take_one_paid(conn, group_id: int, now: datetime) -> bool:
    """Count one more seat taken and paid at once (a payer whose hold lapsed), if one is left."""
    return bool(
        await _forming(group_id, now)
        .filter(taken__lt=F("size"))
        .using_db(conn)
        .update(taken=F("taken") + 1, paid=F("paid") + 1)
    )


async def pay_one_held(conn, group_id: int, now: datetime) -> bool:
    """Count a held seat of the group as paid."""
    return bool(
        await _forming(group_id, now).filter(paid__lt=F("size")).using_db(conn).update(paid=F("paid") + 1)
    )


async def give_back_held(conn, group_id: int) -> None:
    """One held seat fewer (it lapsed, or its order was cancelled)."""
    await Group.filter(id=group_id, taken__gt=F("paid")).using_db(conn).update(taken=F("taken") - 1)


async def take(conn, claims: Sequence[Claim]) -> bool:
    """Hold a seat for each claim (one per checkout): in the chosen group while it has one
    left, else in a new group of the deal opened for the shopper. The seat's id and group go
    into the claim's data, so the order's claim row names them."""
    now = clock.now()
    for claim in claims:
        deal = await queries.live_deal(deal_id=int(claim.ref), now=now, connection=conn)
        user_id, units = int(claim.data["user_id"]), int(claim.data["units"])
        # One shopper's checkouts run one at a time (commit_checkout locks the shopper), so
        # their own seats are counted safely here; the unique live seat is the backstop.
        mine = await (
            GroupSeat.filter(group__deal_id=deal.id, user_id=user_id, status__in=LIVE)
            .using_db(conn)
            .values_list("group_id", "quantity")
        )
        if sum(quantity for _, quantity in mine) + units > deal.per_shopper_limit:
            raise GroupBuyError.OVER_SHOPPER_LIMIT.error()
        group_id = claim.data.get("group_id")
        if group_id is not None and int(group_id) in {g for g, _ in mine}:
            raise GroupBuyError.ALREADY_JOINED.error()
        if group_id is None or not await take_one_held(conn, int(group_id), now, deal_id=deal.id):
            if group_id is not None and not await _of_deal(conn, int(group_id), deal.id):
                raise GroupBuyError.GROUP_NOT_FOUND.error()
            group_id = await open_group(conn, deal, opener_id=user_id, now=now)  # full or over
        seat = await GroupSeat.create(
            group_id=group_id,
            user_id=user_id,
            live_user_id=user_id,
            quantity=units,
            status=SeatStatus.HELD,
            held_until=now + timedelta(minutes=int(claim.data["hold_minutes"])),
            created_at=now,
            using_db=conn,
        )
        await record(conn, int(group_id), GroupEventType.SEAT_HELD, f"shopper:{user_id}", seat_id=seat.id)
        claim.data.update(group_id=int(group_id), seat_id=seat.id)
    return True


async def _of_deal(conn, group_id: int, deal_id: int) -> bool:
    return await Group.filter(id=group_id, deal_id=deal_id).using_db(conn).exists()


async def recorded(conn, taken: Sequence[tuple[int, Claim]]) -> None:
    """Each seat learns the order that took it, once the order's row exists."""
    for order_id, claim in taken:
        await GroupSeat.filter(id=claim.data["seat_id"]).using_db(conn).update(order_id=order_id)


async def release(conn, claims: Sequence[Claim]) -> None:
    """The order was cancelled unpaid: its held seat goes back (a lapsed one already did)."""
    for claim in claims:
        await lapse(conn, seat_id=int(claim.data["seat_id"]), actor="system:orders")


async def lapse(conn, *, seat_id: int, actor: str, due: datetime | None = None) -> bool:
    """A held seat goes back to its group (when its hold is over by `due`, if given)."""
    query = GroupSeat.filter(id=seat_id, status=SeatStatus.HELD)
    if due is not None:
        query = query.filter(held_until__lte=due)
    if not await query.using_db(conn).update(status=SeatStatus.LAPSED, live_user_id=None):
        return False
    group_id = (await GroupSeat.filter(id=seat_id).using_db(conn).values_list("group_id", flat=True))[0]
    await give_back_held(conn, group_id)
    await record(conn, group_id, GroupEventType.SEAT_LAPSED, actor, seat_id=seat_id)
    return True


def on_refund(claim, refunded) -> int:
    """A refund keeps the seat counted as it was: a group's members do not change after it
    succeeded, and a failed group's seats end as refunded."""
    return 0
