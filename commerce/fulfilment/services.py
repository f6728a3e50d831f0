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
from typing import Any

from commerce import clock, outbox
from commerce.audit import services as audit
from commerce.errors import CommonError
from commerce.fulfilment import records
from commerce.fulfilment.errors import FulfilmentError
from commerce.fulfilment.events import FulfilmentStatusChanged
from commerce.fulfilment.models import Fulfilment, PickupPoint
from commerce.fulfilment.queries import FulfilmentView, PickupPointView, fulfilment_of, point_view
from commerce.fulfilment.states import FulfilmentKind, FulfilmentStatus
from commerce.orders import queries as orders
from commerce.orders import services as order_services
from commerce.orders.states import EventType, OrderStatus
from commerce.transactions import unit_of_work, write_transaction

_CODE = re.compile(r"^[0-9]{6,8}$")
_PHONE = re.compile(r"^[0-9-]{3,20}$")
CODE_DIGITS = 6
_DRAWS = 20  # fresh codes tried before one more digit (a point with ~10^6 open pickups)


@unit_of_work
async def create_pickup_point(
    *,
    name: str,
    address: str,
    merchant_id: int | None,
    opening_hours: str = "",
    contact_phone: str = "",
    actor: str = "system",
) -> PickupPointView:
    """A point of a merchant (or the platform's, merchant_id None); recorded in the audit log."""
    fields = _point_fields(name, address, opening_hours, contact_phone)
    async with write_transaction() as conn:
        point = await PickupPoint.create(
            **fields, merchant_id=merchant_id, created_at=clock.now(), using_db=conn
        )
        await _audit(conn, actor, "pickup_point.create", point, after=fields)
    return point_view(point)


@unit_of_work
async def update_pickup_point(
    *,
    point_id: int,
    staff_merchant_id: int | None,
    name: str,
    address: str,
    opening_hours: str,
    contact_phone: str,
    actor: str,
) -> PickupPointView:
    """Staff edit a point they manage. Orders waiting there keep it: they show its new text."""
    fields = _point_fields(name, address, opening_hours, contact_phone)
    point = await _managed(point_id, staff_merchant_id)
    before = {key: getattr(point, key) for key in fields}
    async with write_transaction() as conn:
        await PickupPoint.filter(id=point_id).using_db(conn).update(**fields)
        await _audit(conn, actor, "pickup_point.update", point, before=before, after=fields)
    return point_view(await PickupPoint.get(id=point_id))


@unit_of_work
async def set_pickup_point_active(
    *, point_id: int, staff_merchant_id: int | None, active: bool, actor: str
) -> PickupPointView:
    """Close a point to new checkouts, or open it again. Orders that chose it keep it: they
    are made ready and verified there still."""
    point = await _managed(point_id, staff_merchant_id)
    async with write_transaction() as conn:
        await PickupPoint.filter(id=point_id).using_db(conn).update(active=active)
        action = "pickup_point.reactivate" if active else "pickup_point.deactivate"
        await _audit(conn, actor, action, point, before={"active": point.active}, after={"active": active})
    return point_view(await PickupPoint.get(id=point_id))


async def _managed(point_id: int, staff_merchant_id: int | None) -> PickupPoint:
    """A point the staff member may change: a merchant's people their merchant's (another's is
    not found), the platform's people the platform's (they see merchants' but leave them be)."""
    point = await PickupPoint.get_or_none(id=point_id)
    if point is None or (staff_merchant_id is not None and point.merchant_id != staff_merchant_id):
        raise FulfilmentError.POINT_NOT_FOUND.error()
    if staff_merchant_id is None and point.merchant_id is not None:
        raise CommonError.FORBIDDEN.error("商家的自提点由商家自己管理")
    if point.community:  # its leader edits it; their review opens and closes it
        raise FulfilmentError.LEADER_POINT_MANAGED.error()
    return point


def _point_fields(name: str, address: str, opening_hours: str, contact_phone: str) -> dict[str, str]:
    fields = {
        "name": (name or "").strip(),
        "address": (address or "").strip(),
        "opening_hours": (opening_hours or "").strip(),
        "contact_phone": (contact_phone or "").strip(),
    }
    if not fields["name"] or not fields["address"]:
        raise FulfilmentError.INVALID_POINT.error()
    if len(fields["name"]) > 64 or len(fields["address"]) > 200 or len(fields["opening_hours"]) > 64:
        raise FulfilmentError.INVALID_POINT.error("名称最多 64 字，地址最多 200 字，营业时间最多 64 字")
    if fields["contact_phone"] and not _PHONE.match(fields["contact_phone"]):
        raise FulfilmentError.INVALID_POINT.error("联系电话只能包含数字和短横线（最多 20 位）")
    return fields


async def _audit(conn, actor: str, action: str, point: PickupPoint, **changes) -> None:
    owner = "平台" if point.merchant_id is None else f"商家 {point.merchant_id}"
    await audit.record(
        actor=actor,
        action=action,
        object_type="pickup_point",
        object_id=point.id,
        summary=f"{owner}自提点：{changes.get('after', {}).get('name', point.name)}",
        connection=conn,
        **changes,
    )


# --- leaders' points (the community context's, in its transactions) -------------------------


async def create_leader_point(conn, *, fields: dict[str, Any]) -> int:
    """A leader's point, closed until the leader is approved (merchant_id None: in the
    platform's network, run by that leader); fields: name, address, opening_hours,
    contact_phone, latitude, longitude. Its id."""
    point = await PickupPoint.create(
        **_leader_point_fields(fields),
        merchant_id=None,
        active=False,
        community=True,
        created_at=clock.now(),
        using_db=conn,
    )
    return point.id


async def update_leader_point(conn, *, point_id: int, fields: dict[str, Any]) -> None:
    """The leader edited their point (its place may move: the nearest points read it live)."""
    await PickupPoint.filter(id=point_id).using_db(conn).update(**_leader_point_fields(fields))


async def set_leader_point_open(conn, *, point_id: int, active: bool) -> None:
    """Open the point with its leader's approval, close it with their suspension."""
    await PickupPoint.filter(id=point_id).using_db(conn).update(active=active)


def _leader_point_fields(fields: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "address", "opening_hours", "contact_phone", "latitude", "longitude")
    return {key: fields[key] for key in keys}


@unit_of_work
async def mark_ready_for_pickup(
    *, order_id: int, point_id: int | None = None, merchant_id: int | None, actor: str
) -> FulfilmentView:
    """A paid order waits at a pickup point with a fresh code for its shopper. An order whose
    shopper chose a point at checkout is made ready there, and only there (the shopper was
    told that place); an order placed for delivery may still be handed over at a point staff
    pick (the merchant's own or the platform's). Staff of another merchant: not found."""
    await orders.staff_scope(order_id=order_id, merchant_id=merchant_id)
    facts = await orders.order_facts(order_id)
    assert facts is not None  # staff_scope found it
    chosen = await Fulfilment.get_or_none(
        order_id=order_id, kind=FulfilmentKind.PICKUP, status=FulfilmentStatus.AWAITING
    )
    if chosen is not None:
        chosen_point = await PickupPoint.get(id=chosen.pickup_point_id)
        if point_id is not None and point_id != chosen_point.id:
            raise FulfilmentError.NOT_CHOSEN_POINT.error(
                f"买家选择在「{chosen_point.name}」自提，请在该自提点备货"
            )
        point_id = chosen_point.id
    elif point_id is None:  # ready already, or shipped; or its shopper chose delivery
        arranged = await Fulfilment.exists(order_id=order_id)
        raise (FulfilmentError.ALREADY_ARRANGED if arranged else FulfilmentError.NOT_PICKUP).error()
    # The chosen point, even closed since (it takes no new checkouts, but keeps its word to
    # those placed); a point staff pick must be open.
    point = await PickupPoint.get_or_none(id=point_id) if chosen else None
    point = point or await PickupPoint.get_or_none(id=point_id, active=True)
    if point is None or point.merchant_id not in (None, facts.merchant_id):
        raise FulfilmentError.POINT_NOT_FOUND.error()
    events = []
    async with write_transaction() as conn:
        # Holds the order's row to the commit: a shipment racing in waits, then finds this.
        await order_services.hold_paid(conn, order_id=order_id)
        code = await _fresh_code(conn, point.id)
        if chosen is not None:
            events.append(await _ready_as_chosen(conn, chosen, code, actor))
        else:
            await records.refuse_if_arranged(conn, order_id=order_id)
            await records.create(
                conn,
                order_id=order_id,
                kind=FulfilmentKind.PICKUP,
                status=FulfilmentStatus.READY,
                pickup_point_id=point.id,
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
    await outbox.deliver(events)
    found = await fulfilment_of(order_id)
    assert found is not None
    return found


async def _ready_as_chosen(conn, chosen: Fulfilment, code: str, actor: str) -> outbox.OutboxEvent:
    """awaiting → ready at the chosen point, with the shopper's code."""
    moved = await records.FULFILMENT_LIFECYCLE.try_move(
        conn,
        chosen.id,
        FulfilmentStatus.AWAITING,
        FulfilmentStatus.READY,
        actor=actor,
        changes={"pickup_code": code, "open_code": code},
        event=FulfilmentStatusChanged(
            fulfilment_id=chosen.id,
            order_id=chosen.order_id,
            kind=FulfilmentKind.PICKUP,
            from_status=FulfilmentStatus.AWAITING,
            to_status=FulfilmentStatus.READY,
        ),
    )
    if moved is None or moved.outbox is None:  # made ready by someone else meanwhile
        raise FulfilmentError.INVALID_TRANSITION.error()
    return moved.outbox


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

    Staff may verify at their merchant's points (the platform's people at every point), closed
    ones too: a code given out is honoured. Two verifications of one code at once: one
    conditional update wins, the other is told the code is used."""
    code = (code or "").strip()
    point = await PickupPoint.get_or_none(id=point_id)
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
