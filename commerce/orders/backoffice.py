"""Orders as staff see and handle them. A merchant's people see the orders holding its products,
and only its own lines; shipping an order is theirs only when every line is theirs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from commerce.audit import services as audit
from commerce.catalog.queries import product_ids_of_merchant
from commerce.errors import CommonError
from commerce.orders import queries, services
from commerce.orders.errors import OrderError
from commerce.orders.models import Order, OrderEvent, OrderLine
from commerce.orders.queries import OrderView
from commerce.orders.states import OrderStatus


@dataclass(frozen=True)
class EventView:
    type: str
    from_status: str
    to_status: str
    actor: str
    params: dict
    created_at: datetime


@dataclass(frozen=True)
class StaffOrder:
    order: OrderView  # lines: the merchant's own only, for a merchant
    user_id: int
    events: list[EventView]
    all_lines_mine: bool


async def list_for_staff(
    *, merchant_id: int | None, status: OrderStatus | None = None, order_no: str = "", page: int = 1
) -> tuple[list[OrderView], int]:
    query = Order.all()
    if merchant_id is not None:
        products = await product_ids_of_merchant(merchant_id)
        order_ids = await OrderLine.filter(product_id__in=list(products) or [0]).values_list(
            "order_id", flat=True
        )
        query = query.filter(id__in=list(set(order_ids)) or [0])
    if status is not None:
        query = query.filter(status=status)
    if order_no.strip():
        query = query.filter(order_no=order_no.strip()[:32])
    total = await query.count()
    rows = await query.order_by("-id").offset((max(page, 1) - 1) * 50).limit(50)
    views = await queries.views_of(rows)
    if merchant_id is not None:
        products = await product_ids_of_merchant(merchant_id)
        views = [replace(v, lines=[line for line in v.lines if line.product_id in products]) for v in views]
    return views, total


async def order_for_staff(*, order_id: int, merchant_id: int | None) -> StaffOrder:
    """One order; a merchant asking for an order without its products gets not-found."""
    row = await Order.get_or_none(id=order_id)
    if row is None:
        raise OrderError.NOT_FOUND.error()
    view = (await queries.views_of([row]))[0]
    mine = True
    if merchant_id is not None:
        products = await product_ids_of_merchant(merchant_id)
        own = [line for line in view.lines if line.product_id in products]
        if not own:
            raise OrderError.NOT_FOUND.error()
        mine = len(own) == len(view.lines)
        view = replace(view, lines=own)
    events = [
        EventView(e.type, e.from_status, e.to_status, e.actor, dict(e.params), e.created_at)
        for e in await OrderEvent.filter(order_id=order_id).order_by("id")
    ]
    return StaffOrder(order=view, user_id=row.user_id, events=events, all_lines_mine=mine)


async def ship_for_staff(
    *, order_id: int, merchant_id: int | None, carrier: str, tracking_no: str, actor: str
) -> None:
    """Ship a paid order (the core's ship_order), recorded in the audit log."""
    found = await order_for_staff(order_id=order_id, merchant_id=merchant_id)
    if not found.all_lines_mine:
        raise CommonError.FORBIDDEN.error("该订单包含其他商家的商品，请由平台发货")
    await services.ship_order(order_id=order_id, carrier=carrier, tracking_no=tracking_no, actor=actor)
    await audit.record(
        actor=actor,
        action="order.ship",
        object_type="order",
        object_id=order_id,
        summary=f"{found.order.order_no} {carrier} {tracking_no}",
        after={"carrier": carrier, "tracking_no": tracking_no},
    )
