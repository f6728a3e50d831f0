"""The fulfilment rows the orders context writes inside its own transactions (the pickup point
chosen at checkout, shipping by a carrier, delivery when the shopper has the parcel). Imports
nothing of orders, so orders may import it; the use cases that move an order live in
fulfilment.services."""

from __future__ import annotations

from commerce import clock
from commerce.fulfilment.errors import FulfilmentError
from commerce.fulfilment.events import FulfilmentStatusChanged
from commerce.fulfilment.models import Fulfilment, PickupPoint
from commerce.fulfilment.queries import FulfilmentView, PickupPointView
from commerce.fulfilment.states import ALLOWED_TRANSITIONS, FulfilmentKind, FulfilmentStatus
from commerce.lifecycle import Lifecycle
from commerce.outbox import OutboxEvent

FULFILMENT_LIFECYCLE = Lifecycle(
    model=Fulfilment,
    transitions=ALLOWED_TRANSITIONS,
    refusal=FulfilmentError.INVALID_TRANSITION.error,
)


async def refuse_if_arranged(conn, *, order_id: int) -> None:
    """One fulfilment per order: a second way of handing it over is refused."""
    if await Fulfilment.filter(order_id=order_id).using_db(conn).exists():
        raise FulfilmentError.ALREADY_ARRANGED.error()


async def create(
    conn, *, order_id: int, kind: FulfilmentKind, status: FulfilmentStatus, **fields
) -> Fulfilment:
    """Insert the order's fulfilment (the caller has checked refuse_if_arranged; the unique
    order_id is the backstop)."""
    now = clock.now()
    finished = now if status in (FulfilmentStatus.FULFILLED,) else None
    return await Fulfilment.create(
        order_id=order_id,
        kind=kind,
        status=status,
        created_at=now,
        updated_at=now,
        finished_at=finished,
        using_db=conn,
        **fields,
    )


async def record_express(conn, *, order_id: int, carrier: str, tracking_no: str) -> Fulfilment:
    """Inside the shipment's transaction: the order left with a carrier. A pickup order (chosen
    at checkout, or already at its point) is never sent by a carrier."""
    arranged = await Fulfilment.filter(order_id=order_id).using_db(conn).values_list("kind", flat=True)
    if arranged:
        pickup = arranged[0] == FulfilmentKind.PICKUP
        raise (FulfilmentError.IS_PICKUP if pickup else FulfilmentError.ALREADY_ARRANGED).error()
    return await create(
        conn,
        order_id=order_id,
        kind=FulfilmentKind.EXPRESS,
        status=FulfilmentStatus.SHIPPED,
        carrier=carrier,
        tracking_no=tracking_no,
    )


async def record_pickup_choice(conn, *, order_id: int, point: PickupPointView) -> FulfilmentView:
    """Inside the order's transaction: its shopper collects it at this point (awaiting: staff
    make it ready there once paid). A point closed since the quote refuses the checkout."""
    if not await PickupPoint.filter(id=point.id, active=True).using_db(conn).exists():
        raise FulfilmentError.POINT_NOT_FOUND.error()
    await create(
        conn,
        order_id=order_id,
        kind=FulfilmentKind.PICKUP,
        status=FulfilmentStatus.AWAITING,
        pickup_point_id=point.id,
    )
    return FulfilmentView(
        kind=FulfilmentKind.PICKUP,
        status=FulfilmentStatus.AWAITING,
        pickup_point_id=point.id,
        pickup_point_name=point.name,
        pickup_point_address=point.address,
        pickup_point_hours=point.opening_hours,
    )


async def deliver_express(conn, *, order_id: int, actor: str) -> OutboxEvent | None:
    """Inside the completion's transaction: the shopper has the parcel (shipped → delivered).
    Nothing when the order has no express fulfilment in transit (picked up, virtual, or shipped
    before fulfilments were recorded and not back-filled)."""
    found = (
        await Fulfilment.filter(
            order_id=order_id, kind=FulfilmentKind.EXPRESS, status=FulfilmentStatus.SHIPPED
        )
        .using_db(conn)
        .values_list("id", flat=True)
    )
    if not found:
        return None
    moved = await FULFILMENT_LIFECYCLE.try_move(
        conn,
        found[0],
        FulfilmentStatus.SHIPPED,
        FulfilmentStatus.DELIVERED,
        actor=actor,
        changes={"finished_at": clock.now()},
        event=FulfilmentStatusChanged(
            fulfilment_id=found[0],
            order_id=order_id,
            kind=FulfilmentKind.EXPRESS,
            from_status=FulfilmentStatus.SHIPPED,
            to_status=FulfilmentStatus.DELIVERED,
        ),
    )
    return moved.outbox if moved is not None else None
