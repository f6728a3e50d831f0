"""拼团 use cases: seats paid (from the payment's transaction), groups that fill or run out of
time, holds that lapse. Seats and groups move only by conditional updates (commerce.groupbuy.
seats); a group's status by its lifecycle; the orders' by orders' services; refunds go through
after-sales, so they are retried and shown like any other."""

from __future__ import annotations

import logging
from datetime import datetime

from tortoise.expressions import F, Q

from commerce import clock, outbox
from commerce.aftersales import services as aftersales
from commerce.groupbuy import queries, seats
from commerce.groupbuy.errors import GroupBuyError
from commerce.groupbuy.events import GroupFailed, GroupMemberMoved, GroupSucceeded
from commerce.groupbuy.models import Group, GroupSeat
from commerce.groupbuy.states import ALLOWED_TRANSITIONS, GroupEventType, GroupStatus, SeatStatus
from commerce.jobs import services as jobs
from commerce.lifecycle import Lifecycle, Transition
from commerce.orders import queries as orders
from commerce.orders import services as order_services
from commerce.transactions import unit_of_work, write_transaction
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import WeChatError, WeChatUnavailable

log = logging.getLogger(__name__)

SYSTEM = "system:groupbuy"
EXPIRE_GROUPS = "expire_groups"  # the scheduled jobs' names in their failure records
LAPSE_HOLDS = "lapse_group_holds"
FAILED_REASON = "拼团未成团，全额退款"
NO_GROUP_REASON = "拼团已结束，未能参团，全额退款"


async def _record_move(conn, moved: Transition[GroupStatus]) -> None:
    await seats.record(
        conn,
        moved.object_id,
        GroupEventType.STATUS_CHANGED,
        moved.actor,
        frm=moved.frm.value if moved.frm else "",
        to=moved.to.value,
        **moved.params,
    )


GROUP_LIFECYCLE = Lifecycle(
    model=Group,
    transitions=ALLOWED_TRANSITIONS,
    refusal=GroupBuyError.INVALID_TRANSITION.error,
    record=_record_move,
)


async def seat_payments(conn, *, order_ids: list[int], actor: str) -> list[outbox.OutboxEvent]:
    """Inside the payment's transaction, for its orders that now wait for their group: each
    one's seat is paid by one conditional update. A seat whose hold lapsed takes a seat left
    in its group; when none is (full, failed, out of time) the payer is placed in a new group
    of the deal opened for them, or refunded in full when the deal is over. The N-th paid
    seat makes the group succeed and all its orders paid, here, together."""
    events: list[outbox.OutboxEvent] = []
    now = clock.now()
    for order_id in order_ids:
        seat = await GroupSeat.filter(order_id=order_id).using_db(conn).first()
        if seat is None:
            continue
        events += await _seat_paid(conn, seat, now, actor)
    return events


async def _seat_paid(conn, seat: GroupSeat, now: datetime, actor: str) -> list[outbox.OutboxEvent]:
    paid = {"status": SeatStatus.PAID, "paid_at": now}
    if await GroupSeat.filter(id=seat.id, status=SeatStatus.HELD).using_db(conn).update(**paid):
        if await seats.pay_one_held(conn, seat.group_id, now):
            await seats.record(conn, seat.group_id, GroupEventType.SEAT_PAID, actor, seat_id=seat.id)
            return await _succeed_if_full(conn, seat.group_id, actor)
        await seats.give_back_held(conn, seat.group_id)  # counted as held there: no more
        return await _place_elsewhere(conn, seat, now, actor)
    # The hold lapsed (the seat went back to the group): take one again if one is left.
    mine = await GroupSeat.filter(group_id=seat.group_id, live_user_id=seat.user_id).using_db(conn).exists()
    if not mine and await seats.take_one_paid(conn, seat.group_id, now):
        await (
            GroupSeat.filter(id=seat.id, status=SeatStatus.LAPSED)
            .using_db(conn)
            .update(live_user_id=seat.user_id, **paid)
        )
        await seats.record(conn, seat.group_id, GroupEventType.SEAT_PAID, actor, seat_id=seat.id)
        return await _succeed_if_full(conn, seat.group_id, actor)
    return await _place_elsewhere(conn, seat, now, actor)


async def _place_elsewhere(conn, seat: GroupSeat, now: datetime, actor: str) -> list[outbox.OutboxEvent]:
    """The payer's group has no seat for them: a new group of the same deal, opened for them
    with their seat paid; or, the deal being over, a full refund (the order closes)."""
    deal_id = (await Group.filter(id=seat.group_id).using_db(conn).values_list("deal_id", flat=True))[0]
    deal = await queries.deal_facts(deal_id=deal_id, connection=conn)
    if deal.on_at(now):
        group_id = await seats.open_group(conn, deal, opener_id=seat.user_id, now=now, paid=1)
        await (
            GroupSeat.filter(id=seat.id)
            .using_db(conn)
            .update(group_id=group_id, live_user_id=seat.user_id, status=SeatStatus.PAID, paid_at=now)
        )
        await seats.record(
            conn, group_id, GroupEventType.MOVED_IN, actor, seat_id=seat.id, came_from=seat.group_id
        )
        assert seat.order_id is not None
        moved = GroupMemberMoved(group_id=group_id, user_id=seat.user_id, order_id=seat.order_id)
        return [await outbox.emit(moved, connection=conn)]
    await GroupSeat.filter(id=seat.id).using_db(conn).update(status=SeatStatus.REFUNDED, live_user_id=None)
    assert seat.order_id is not None
    return await _refund(conn, seat.order_id, NO_GROUP_REASON, actor)


async def _refund(conn, order_id: int, reason: str, actor: str) -> list[outbox.OutboxEvent]:
    """A waiting order refunded in full through after-sales, and closed."""
    facts = await orders.order_facts(order_id, conn)
    assert facts is not None
    events = [await order_services.end_grouping(conn, order_id=order_id, succeeded=False, actor=actor)]
    return events + await aftersales.refund_whole_in(conn, facts=facts, reason=reason, actor=actor)


async def _succeed_if_full(
    conn, group_id: int, actor: str, least: int | None = None
) -> list[outbox.OutboxEvent]:
    """The group succeeds when its paid seats reach its size (or `least`, at the deadline):
    every waiting order of it is paid now, together."""
    enough = Q(paid__gte=F("size")) if least is None else Q(paid__gte=least)
    moved = await GROUP_LIFECYCLE.try_move(
        conn,
        group_id,
        GroupStatus.FORMING,
        GroupStatus.SUCCEEDED,
        actor=actor,
        where=enough,
        changes={"finished_at": clock.now()},
        event=GroupSucceeded(group_id=group_id),
    )
    if moved is None:
        return []
    events = [moved.outbox]
    for order_id in await _paid_orders(conn, group_id):
        events.append(await order_services.end_grouping(conn, order_id=order_id, succeeded=True, actor=actor))
    return events


async def _paid_orders(conn, group_id: int) -> list[int]:
    return sorted(
        await GroupSeat.filter(group_id=group_id, status=SeatStatus.PAID, order_id__not_isnull=True)
        .using_db(conn)
        .values_list("order_id", flat=True)
    )


async def expire_groups(*, limit: int = 100) -> int:
    """End the groups past their deadline (the scheduler runs this): succeeded when the deal
    allows it and enough paid, else failed with every paid member refunded in full. One that
    fails is recorded and retried by a later run."""
    put_off = await jobs.put_off(job=EXPIRE_GROUPS, item_kind="group")
    due = (
        await Group.filter(status=GroupStatus.FORMING, deadline__lte=clock.now())
        .exclude(id__in=put_off or [0])
        .order_by("deadline")
        .limit(limit)
        .values_list("id", flat=True)
    )
    return await jobs.each_item(
        job=EXPIRE_GROUPS, item_kind="group", items=due, item_id=int, handle=_end_group
    )


@unit_of_work
async def _end_group(group_id: int) -> bool:
    deal_id = (await Group.filter(id=group_id).values_list("deal_id", flat=True))[0]
    deal = await queries.deal_facts(deal_id=deal_id)
    async with write_transaction() as conn:
        events: list[outbox.OutboxEvent] = []
        if deal.min_paid_at_deadline:
            events = await _succeed_if_full(conn, group_id, SYSTEM, least=deal.min_paid_at_deadline)
        if not events:
            events = await _fail(conn, group_id)
        if not events:
            return False  # ended meanwhile
        for seat_id in (
            await GroupSeat.filter(group_id=group_id, status=SeatStatus.HELD)
            .using_db(conn)
            .values_list("id", flat=True)
        ):
            await seats.lapse(conn, seat_id=seat_id, actor=SYSTEM)
    await outbox.deliver(events)
    return True


async def _fail(conn, group_id: int) -> list[outbox.OutboxEvent]:
    moved = await GROUP_LIFECYCLE.try_move(
        conn,
        group_id,
        GroupStatus.FORMING,
        GroupStatus.FAILED,
        actor=SYSTEM,
        where=Q(deadline__lte=clock.now()),
        changes={"finished_at": clock.now()},
        event=GroupFailed(group_id=group_id),
    )
    if moved is None:
        return []
    events = [moved.outbox]
    for order_id in await _paid_orders(conn, group_id):
        await (
            GroupSeat.filter(group_id=group_id, order_id=order_id, status=SeatStatus.PAID)
            .using_db(conn)
            .update(status=SeatStatus.REFUNDED, live_user_id=None)
        )
        events += await _refund(conn, order_id, FAILED_REASON, SYSTEM)
    return events


async def lapse_holds(*, limit: int = 500) -> int:
    """Let unpaid seat holds past their minutes go back to their groups (the scheduler runs
    this); their orders stay payable until their own deadline, and take a seat again then if
    one is left."""
    now = clock.now()
    due = (
        await GroupSeat.filter(status=SeatStatus.HELD, held_until__lte=now)
        .order_by("held_until")
        .limit(limit)
        .values_list("id", flat=True)
    )
    return await jobs.each_item(job=LAPSE_HOLDS, item_kind="seat", items=due, item_id=int, handle=_lapse)


@unit_of_work
async def _lapse(seat_id: int) -> bool:
    async with write_transaction() as conn:
        return await seats.lapse(conn, seat_id=seat_id, actor=SYSTEM, due=clock.now())


async def share_code(*, group_id: int, wechat: WeChatClient) -> bytes:
    """The mini-program code (PNG) that opens the group's page, its scene naming the group."""
    await queries.group_view(group_id=group_id)  # a group that does not exist has no code
    try:
        return await wechat.get_unlimited_code(
            scene=queries.share_scene(group_id), page=queries.GROUP_PAGE, check_path=True
        )
    except (WeChatError, WeChatUnavailable) as exc:
        log.warning("mini-program code for group %s refused: %s", group_id, exc)
        raise GroupBuyError.CODE_UNAVAILABLE.error() from None
