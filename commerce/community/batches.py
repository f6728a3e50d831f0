"""Batches: at a sale's cut-off its paid orders form one batch per leader (the leader whose
point the orders are collected at); the warehouse picks them (commerce.community.picking),
dispatches each batch, and marks it arrived at the point, which makes each order ready for
pickup with its code (the shopper is told, with the code).

At the cut-off nothing of the sale may be paid any more (commerce.community.closing: its unpaid
orders cancelled, its paid ones stamped and read, none missed). Forming is one
transaction that moves the sale open → cut_off (a conditional update): a second runner at the
same time finds it moved and forms nothing; the unique (sale, leader) of batches is the
backstop. Orders paid after the cut-off (before it was run) are in no batch: they are
refunded in full through after-sales, in the same transaction."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from commerce import clock, outbox
from commerce.community import closing, sale_queries
from commerce.community.errors import SaleError
from commerce.community.events import BatchArrived
from commerce.community.models import Batch, BatchEvent, CommunityOrder, CommunitySale, Leader
from commerce.community.sales import SALE
from commerce.community.states import BATCH_TRANSITIONS, BatchStatus, SaleStatus
from commerce.errors import CommerceError
from commerce.fulfilment import queries as fulfilment_queries
from commerce.fulfilment import services as fulfilment
from commerce.lifecycle import Lifecycle, Transition
from commerce.orders import queries as orders
from commerce.orders.states import OrderStatus
from commerce.transactions import unit_of_work, write_transaction

log = logging.getLogger(__name__)


async def _record_batch_move(conn, moved: Transition[BatchStatus]) -> None:
    await BatchEvent.create(
        batch_id=moved.object_id,
        from_status=moved.frm.value if moved.frm else "",
        to_status=moved.to.value,
        actor=moved.actor[:64],
        params=dict(moved.params),
        created_at=moved.at,
        using_db=conn,
    )


BATCH = Lifecycle(
    model=Batch,
    transitions=BATCH_TRANSITIONS,
    refusal=SaleError.BATCH_INVALID_TRANSITION.error,
    record=_record_batch_move,
    stamp_field=None,
)


@dataclass(frozen=True)
class BatchView:
    id: int
    sale_id: int
    sale_title: str
    sale_merchant_id: int | None
    leader_id: int
    pickup_point_id: int
    status: BatchStatus
    order_count: int
    created_at: datetime
    dispatched_at: datetime | None
    arrived_at: datetime | None
    leader_name: str = ""
    point_name: str = ""


async def cut_off_due_sales(*, limit: int = 50) -> int:
    """The scheduler's job: form the batches of every open sale past its cut-off; how many
    batches were formed."""
    due = await CommunitySale.filter(status=SaleStatus.OPEN, cutoff_at__lte=clock.now()).order_by("cutoff_at")
    formed = 0
    for sale in due[:limit]:
        formed += len(await form_batches(sale_id=sale.id))
    return formed


@unit_of_work
async def form_batches(*, sale_id: int, actor: str = "system") -> list[int]:
    """Cut the sale off (when its cut-off has passed) and form its batches; their ids (none
    when another runner cut it off first)."""
    sale = await CommunitySale.get_or_none(id=sale_id)
    now = clock.now()
    if sale is None or sale.status is not SaleStatus.OPEN or sale.cutoff_at > now:
        return []
    await closing.stop_payments(sale, actor="system:cutoff", reason="社区团购已截单")
    by_leader = await _paid_by_leader(sale)
    late = await closing.paid_undelivered(sale, after_cutoff=True)
    events: list[outbox.OutboxEvent] = []
    async with write_transaction() as conn:
        moved = await SALE.try_move(
            conn,
            sale_id,
            SaleStatus.OPEN,
            SaleStatus.CUT_OFF,
            actor=actor,
            changes={"cut_off_at": now},
            where=Q(cutoff_at__lte=now),
        )
        if moved is None:
            return []
        batch_ids = []
        for leader_id in sorted(by_leader):
            members = by_leader[leader_id]
            batch = await Batch.create(
                sale_id=sale_id,
                leader_id=leader_id,
                pickup_point_id=members[0].pickup_point_id,
                status=BatchStatus.FORMED,
                order_count=len(members),
                created_at=now,
                using_db=conn,
            )
            await (
                CommunityOrder.filter(id__in=[m.id for m in members], batch_id__isnull=True)
                .using_db(conn)
                .update(batch_id=batch.id)
            )
            await BatchEvent.create(
                batch_id=batch.id,
                to_status=BatchStatus.FORMED.value,
                actor=actor[:64],
                params={"orders": len(members)},
                created_at=now,
                using_db=conn,
            )
            batch_ids.append(batch.id)
        events = await closing.refund_in(conn, late, reason=closing.LATE, actor=actor)
    await outbox.deliver(events)
    return batch_ids


async def _paid_by_leader(sale: CommunitySale) -> dict[int, list[CommunityOrder]]:
    """The sale's orders paid by its cut-off and still paid (not wholly refunded or cancelled
    meanwhile), by the leader whose point they are collected at."""
    rows = await CommunityOrder.filter(
        sale_id=sale.id, paid_at__isnull=False, paid_at__lte=sale.cutoff_at, batch_id__isnull=True
    ).order_by("id")
    leaders = await sale_queries.leaders_of_points(sorted({row.pickup_point_id for row in rows}))
    by_leader: dict[int, list[CommunityOrder]] = defaultdict(list)
    facts_of = await orders.orders_facts([row.order_id for row in rows])
    for row in rows:
        facts = facts_of.get(row.order_id)
        if facts is not None and facts.status is OrderStatus.PAID and row.pickup_point_id in leaders:
            by_leader[leaders[row.pickup_point_id]].append(row)
    return by_leader


@unit_of_work
async def dispatch_batch(*, batch_id: int, staff_merchant_id: int | None, actor: str) -> BatchView:
    """The batch left the warehouse for its point (formed → dispatched)."""
    await staff_batch(batch_id=batch_id, merchant_id=staff_merchant_id)
    async with write_transaction() as conn:
        await BATCH.move(
            conn,
            batch_id,
            BatchStatus.FORMED,
            BatchStatus.DISPATCHED,
            actor=actor,
            changes={"dispatched_at": clock.now()},
        )
    return await staff_batch(batch_id=batch_id, merchant_id=staff_merchant_id)


@unit_of_work
async def arrive_batch(*, batch_id: int, staff_merchant_id: int | None, actor: str) -> BatchView:
    """The batch is at its point (dispatched → arrived). Its orders are made ready there by the
    subscriber of batch_arrived (the relay delivers it within a second, and again after a
    crash until every order is ready): a batch of hundreds of orders keeps the request short."""
    await staff_batch(batch_id=batch_id, merchant_id=staff_merchant_id)
    async with write_transaction() as conn:
        await BATCH.move(
            conn,
            batch_id,
            BatchStatus.DISPATCHED,
            BatchStatus.ARRIVED,
            actor=actor,
            changes={"arrived_at": clock.now()},
            event=BatchArrived(batch_id=batch_id, actor=actor),
        )
    return await staff_batch(batch_id=batch_id, merchant_id=staff_merchant_id)


async def on_batch_arrived(event: BatchArrived) -> None:
    await ready_batch_orders(batch_id=event.batch_id, actor=event.actor)


async def ready_batch_orders(*, batch_id: int, actor: str) -> int:
    """Make each order of an arrived batch ready at its point (each in its own transaction,
    through fulfilment's own use case); one already ready, or refunded meanwhile, is left as
    it is. Safe to run again after a crash."""
    if not await Batch.exists(id=batch_id, status=BatchStatus.ARRIVED):
        raise SaleError.BATCH_INVALID_TRANSITION.error()
    ready = 0
    for order_id in (
        await CommunityOrder.filter(batch_id=batch_id).order_by("id").values_list("order_id", flat=True)
    ):
        try:
            await fulfilment.mark_ready_for_pickup(order_id=order_id, merchant_id=None, actor=actor)
            ready += 1
        except CommerceError as refused:  # ready already, or no longer paid
            log.info("batch %s order %s not made ready: %s", batch_id, order_id, refused.code)
    return ready


async def staff_batch(*, batch_id: int, merchant_id: int | None) -> BatchView:
    """A batch as staff see it: the platform's people every batch, a merchant's people the
    batches of their merchant's sales (another's: not found)."""
    views = await _views(Batch.filter(id=batch_id))
    if not views or (merchant_id is not None and views[0].sale_merchant_id != merchant_id):
        raise SaleError.BATCH_NOT_FOUND.error()
    return views[0]


async def staff_batches(
    *, merchant_id: int | None, sale_id: int | None = None, limit: int = 200
) -> list[BatchView]:
    query = Batch.all()
    if sale_id is not None:
        query = query.filter(sale_id=sale_id)
    if merchant_id is not None:
        own = await CommunitySale.filter(merchant_id=merchant_id).values_list("id", flat=True)
        query = query.filter(sale_id__in=list(own) or [0])
    return await _views(query.order_by("-id").limit(limit))


async def leader_batches(*, leader_id: int, limit: int = 50) -> list[BatchView]:
    return await _views(Batch.filter(leader_id=leader_id).order_by("-id").limit(limit))


async def leader_batch(*, leader_id: int, batch_id: int) -> BatchView:
    """The leader's own batch; another leader's is not found."""
    views = await _views(Batch.filter(id=batch_id, leader_id=leader_id))
    if not views:
        raise SaleError.BATCH_NOT_FOUND.error()
    return views[0]


async def _views(query) -> list[BatchView]:
    batches = await query
    sales = {
        sale.id: sale for sale in await CommunitySale.filter(id__in=list({b.sale_id for b in batches}) or [0])
    }
    leaders = list({b.leader_id for b in batches}) or [0]
    names = dict(await Leader.filter(id__in=leaders).values_list("id", "name"))
    every_point = await fulfilment_queries.staff_points(merchant_id=None) if batches else []
    points = {p.id: p.name for p in every_point}
    return [
        BatchView(
            id=b.id,
            sale_id=b.sale_id,
            sale_title=sales[b.sale_id].title,
            sale_merchant_id=sales[b.sale_id].merchant_id,
            leader_id=b.leader_id,
            pickup_point_id=b.pickup_point_id,
            status=BatchStatus(b.status),
            order_count=b.order_count,
            created_at=b.created_at,
            dispatched_at=b.dispatched_at,
            arrived_at=b.arrived_at,
            leader_name=names.get(b.leader_id, ""),
            point_name=points.get(b.pickup_point_id, ""),
        )
        for b in batches
    ]


async def batch_order_ids(*, batch_id: int) -> list[int]:
    return list(
        await CommunityOrder.filter(batch_id=batch_id).order_by("id").values_list("order_id", flat=True)
    )


@dataclass(frozen=True)
class OutOfBatch:
    order_id: int
    order_no: str
    paid_at: datetime


async def paid_after_cutoff(*, sale_id: int, merchant_id: int | None) -> list[OutOfBatch]:
    """The sale's orders paid after its cut-off (in no batch: the cut-off refunded them in full
    through after-sales), as staff of its merchant (or the platform) see them."""
    sale = await CommunitySale.get_or_none(id=sale_id)
    if sale is None or (merchant_id is not None and sale.merchant_id != merchant_id):
        raise SaleError.NOT_FOUND.error()
    rows = await CommunityOrder.filter(
        sale_id=sale_id, batch_id__isnull=True, paid_at__gt=sale.cutoff_at
    ).order_by("paid_at")
    numbers = await orders.order_numbers({row.order_id for row in rows})
    return [OutOfBatch(row.order_id, numbers.get(row.order_id, ""), row.paid_at) for row in rows]
