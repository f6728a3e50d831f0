"""Fulfilment use cases: pickup points, an order made ready for pickup, its code verified at
the point, virtual goods fulfilled at once. Shipping by a carrier stays the orders context's
(orders.services.ship_in), which records the express fulfilment in its transaction.

Order statuses stay as they are today (reducing them is later work): a pickup verified or a
virtual order fulfilled moves its order paid → shipped (announced: WeChat's shipping upload
follows, with this fulfilment's logistics_type) → completed, in the same transaction. Ready
for pickup leaves the order paid: the goods have not left the merchant's hands yet."""

from __future__ import annotations

import re
import secrets

from commerce import clock, outbox
from commerce.fulfilment import records
from commerce.fulfilment.errors import FulfilmentError
from commerce.fulfilment.events import FulfilmentStatusChanged
from commerce.fulfilment.models import Fulfilment, PickupPoint
from commerce.fulfilment.queries import FulfilmentView, PickupPointView, fulfilment_of
from commerce.fulfilment.states import FulfilmentKind, FulfilmentStatus
from commerce.orders import queries as orders
from commerce.orders import services as order_services
from commerce.orders.states import EventType, OrderStatus
from commerce.transactions import unit_of_work, write_transaction

_CODE = re.compile(r"^[0-9]{6,8}$")
CODE_DIGITS = 6
_DRAWS = 20  # fresh codes tried before one more digit (a point with ~10^6 open pickups)


async def create_pickup_point(*, name: str, address: str, merchant_id: int | None) -> PickupPointView:
    """A point of a merchant (or the platform's, merchant_id None)."""
    point = await PickupPoint.create(
        name=name.strip()[:64], address=address.strip()[:200], merchant_id=merchant_id, created_at=clock.now()
    )
    return PickupPointView(
        id=point.id,
        name=point.name,
        address=point.address,
        merchant_id=point.merchant_id,
        active=point.active,
    )


@unit_of_work
async def mark_ready_for_pickup(
    *, order_id: int, point_id: int, merchant_id: int | None, actor: str
) -> FulfilmentView:
    """A paid order waits at a pickup point (the merchant's own or the platform's) with a
    fresh code for its shopper. Staff of another merchant: the order is not found."""
    await orders.staff_scope(order_id=order_id, merchant_id=merchant_id)
    facts = await orders.order_facts(order_id)
    assert facts is not None  # staff_scope found it
    point = await PickupPoint.get_or_none(id=point_id, active=True)
    if point is None or point.merchant_id not in (None, facts.merchant_id):
        raise FulfilmentError.POINT_NOT_FOUND.error()
    async with write_transaction() as conn:
        # Holds the order's row to the commit: a shipment racing in waits, then finds this.
        await order_services.hold_paid(conn, order_id=order_id)
        await records.refuse_if_arranged(conn, order_id=order_id)
        code = await _fresh_code(conn, point_id)
        await records.create(
            conn,
            order_id=order_id,
            kind=FulfilmentKind.PICKUP,
            status=FulfilmentStatus.READY,
            pickup_point_id=point_id,
            pickup_code=code,
            open_code=code,
        )
        await order_services.record_event(
            conn,
            order_id=order_id,
            type_=EventType.NOTE,
            actor=actor,
            params={"text": f"待自提：{point.name}"},
        )
    found = await fulfilment_of(order_id)
    assert found is not None
    return found


async def _fresh_code(conn, point_id: int) -> str:
    """A random code no open pickup of the point holds (the unique index is the backstop)."""
    digits = CODE_DIGITS
    while True:
        for _ in range(_DRAWS):
            code = f"{secrets.randbelow(10**digits):0{digits}d}"
            taken = await Fulfilment.filter(pickup_point_id=point_id, open_code=code).using_db(conn).exists()
            if not taken:
                return code
        digits = min(digits + 1, 8)


@unit_of_work
async def verify_pickup(*, point_id: int, code: str, merchant_id: int | None, actor: str) -> int:
    """The point's staff verify the shopper's code: ready → picked up, once, at this point
    only; the order moves on (shipped, then completed). The order's id.

    Staff may verify at their merchant's points (the platform's people at every point).
    Two verifications of one code at once: one conditional update wins, the other is told the
    code is used."""
    code = (code or "").strip()
    point = await PickupPoint.get_or_none(id=point_id, active=True)
    if point is None or (merchant_id is not None and point.merchant_id != merchant_id):
        raise FulfilmentError.POINT_NOT_FOUND.error()
    if not _CODE.match(code):
        raise FulfilmentError.INVALID_CODE.error()
    async with write_transaction() as conn:
        found = (
            await Fulfilment.filter(pickup_point_id=point_id, open_code=code, status=FulfilmentStatus.READY)
            .using_db(conn)
            .values_list("id", "order_id")
        )
        if not found:
            raise await _why_not(conn, point_id, code)
        fulfilment_id, order_id = found[0]
        moved = await records.FULFILMENT_LIFECYCLE.try_move(
            conn,
            fulfilment_id,
            FulfilmentStatus.READY,
            FulfilmentStatus.PICKED_UP,
            actor=actor,
            changes={"open_code": None, "finished_at": clock.now()},
            event=FulfilmentStatusChanged(
                fulfilment_id=fulfilment_id,
                order_id=order_id,
                kind=FulfilmentKind.PICKUP,
                from_status=FulfilmentStatus.READY,
                to_status=FulfilmentStatus.PICKED_UP,
            ),
        )
        if moved is None:  # verified by someone else meanwhile
            raise FulfilmentError.CODE_USED.error()
        events = [moved.outbox, *await _hand_over(conn, order_id, actor, {"pickup_point": point.name})]
    await outbox.deliver(events)
    return order_id


async def _why_not(conn, point_id: int, code: str) -> Exception:
    """The stable reason a code did not verify here."""
    here = Fulfilment.filter(pickup_point_id=point_id, pickup_code=code, kind=FulfilmentKind.PICKUP)
    if await here.using_db(conn).filter(status=FulfilmentStatus.PICKED_UP).exists():
        return FulfilmentError.CODE_USED.error()
    elsewhere = Fulfilment.filter(open_code=code, status=FulfilmentStatus.READY).exclude(
        pickup_point_id=point_id
    )
    if await elsewhere.using_db(conn).exists():
        return FulfilmentError.WRONG_POINT.error()
    return FulfilmentError.INVALID_CODE.error()


@unit_of_work
async def fulfil_virtual(*, order_id: int, merchant_id: int | None, actor: str) -> FulfilmentView:
    """Virtual goods (a card, a service): fulfilled at once; the order is shipped and completed."""
    await orders.staff_scope(order_id=order_id, merchant_id=merchant_id)
    async with write_transaction() as conn:
        await order_services.hold_paid(conn, order_id=order_id)
        await records.refuse_if_arranged(conn, order_id=order_id)
        await records.create(
            conn, order_id=order_id, kind=FulfilmentKind.NONE, status=FulfilmentStatus.FULFILLED
        )
        events = await _hand_over(conn, order_id, actor, {"virtual": True})
    await outbox.deliver(events)
    found = await fulfilment_of(order_id)
    assert found is not None
    return found


async def _hand_over(conn, order_id: int, actor: str, params: dict) -> list[outbox.OutboxEvent]:
    """The shopper has the goods: paid → shipped (announced: the shipping upload) → completed."""
    now = clock.now()
    shipped = await order_services.transition(
        conn,
        order_id,
        OrderStatus.PAID,
        OrderStatus.SHIPPED,
        actor,
        params=params,
        changes={"shipped_at": now},
    )
    completed = await order_services.transition(
        conn, order_id, OrderStatus.SHIPPED, OrderStatus.COMPLETED, actor, changes={"completed_at": now}
    )
    return [shipped, completed]
