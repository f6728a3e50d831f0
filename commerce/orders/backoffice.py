"""Orders as staff see and handle them. A merchant's people see, ship and note the orders stamped
with their merchant when placed (a product moving to another merchant later moves no order)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from tortoise.expressions import Q, Subquery

from commerce import clock, outbox
from commerce.audit import services as audit
from commerce.errors import CommerceError
from commerce.orders import queries, services
from commerce.orders.errors import OrderError
from commerce.orders.models import Order, OrderEvent, OrderLine
from commerce.orders.queries import OrderPage
from commerce.orders.states import EventType, OrderStatus
from commerce.staff import services as staff_accounts
from commerce.transactions import unit_of_work, write_transaction

NOTE_MAX = 500
BULK_SHIP_MAX_ROWS = 500


@dataclass(frozen=True)
class EventView:
    type: str
    from_status: str
    to_status: str
    actor: str
    params: dict
    created_at: datetime
    staff_name: str = ""  # when the actor is staff: their username and role
    staff_role: str = ""


@dataclass(frozen=True)
class StaffOrder:
    order: queries.OrderView  # lines: the merchant's own only, for a merchant
    user_id: int
    events: list[EventView]
    # False only for an order placed before orders were split per merchant whose lines are
    # partly another merchant's: its payments tell that merchant's money.
    all_lines_mine: bool


@dataclass(frozen=True)
class OrderFilters:
    status: OrderStatus | None = None
    placed_from: date | None = None  # Shanghai calendar days, both ends included
    placed_to: date | None = None
    # An order number, the receiver's name, their phone (all of it or its last four digits),
    # or words of a product title.
    keyword: str = ""
    # Whether a whole phone number may be searched: only by those who may see one (else a
    # search by it would confirm the number); the last four digits are for everyone.
    full_phone: bool = False


async def list_for_staff(
    *, merchant_id: int | None, filters: OrderFilters | None = None, page: int = 1, page_size: int = 50
) -> OrderPage:
    """Newest first. A merchant's people see only its orders."""
    filters = filters or OrderFilters()
    query = Order.all()
    if merchant_id is not None:
        query = query.filter(merchant_id=merchant_id)
    if filters.status is not None:
        query = query.filter(status=filters.status)
    if filters.placed_from is not None:
        query = query.filter(created_at__gte=_shanghai_midnight(filters.placed_from))
    if filters.placed_to is not None:
        query = query.filter(created_at__lt=_shanghai_midnight(filters.placed_to + timedelta(days=1)))
    keyword = filters.keyword.strip()[:50]
    if keyword:
        query = query.filter(_matching(keyword, full_phone=filters.full_phone))
    page = max(page, 1)
    total = await query.count()
    rows = await query.order_by("-id").offset((page - 1) * page_size).limit(page_size)
    views = await queries.views_of(rows)
    if merchant_id is not None:
        views = merchants_part(views, merchant_id)
    return OrderPage(items=views, total=total, page=page, page_size=page_size)


def own_part(view: queries.OrderView, merchant_id: int) -> queries.OrderView:
    """A merchant's part of its order: the lines stamped with it, and only their money. Every
    line is, but for an order placed before orders were split per merchant: that one must not
    tell another merchant's prices or the whole payable."""
    own = [line for line in view.lines if line.merchant_id == merchant_id]
    if len(own) == len(view.lines):
        return view
    return replace(
        view,
        lines=own,
        items_total=sum(line.line_total for line in own),
        discount_total=sum(line.discount for line in own),
        shipping_fee=0,  # the order's, not any one merchant's
        payable=sum(line.payable for line in own),
    )


def merchants_part(views: list[queries.OrderView], merchant_id: int) -> list[queries.OrderView]:
    """Each of the merchant's orders as its people may see it (see own_part)."""
    return [own_part(v, merchant_id) for v in views]


def _matching(keyword: str, *, full_phone: bool) -> Q:
    titled = OrderLine.filter(title__icontains=keyword).values("order_id")
    condition = Q(order_no=keyword) | Q(receiver_name__icontains=keyword) | Q(id__in=Subquery(titled))
    if keyword.isascii() and keyword.isdigit():
        if len(keyword) == 4:
            condition |= Q(receiver_phone_tail=keyword)
        elif len(keyword) >= 7 and full_phone:
            condition |= Q(receiver_phone=keyword)
    return condition


def _shanghai_midnight(day: date) -> datetime:
    # In UTC, as stored: SQLite compares the stored text, offsets and all.
    return datetime.combine(day, time.min, tzinfo=clock.SHANGHAI).astimezone(UTC)


async def order_for_staff(*, order_id: int, merchant_id: int | None) -> StaffOrder:
    """One order; a merchant asking for another merchant's order gets not-found."""
    row = await Order.get_or_none(id=order_id)
    if row is None or merchant_id not in (None, row.merchant_id):
        raise OrderError.NOT_FOUND.error()
    view = (await queries.views_of([row]))[0]
    mine = True
    if merchant_id is not None:
        own = own_part(view, merchant_id)
        mine = len(own.lines) == len(view.lines)
        view = own
    rows = await OrderEvent.filter(order_id=order_id).order_by("id")
    acting = {int(e.actor[6:]) for e in rows if e.actor.startswith("staff:") and e.actor[6:].isdigit()}
    staff = {f"staff:{s.id}": s for s in await staff_accounts.list_staff(ids=acting)} if acting else {}
    events = []
    for e in rows:
        who = staff.get(e.actor)
        events.append(
            EventView(
                e.type,
                e.from_status,
                e.to_status,
                e.actor,
                dict(e.params),
                e.created_at,
                staff_name=who.username if who else "",
                staff_role=who.role.value if who else "",
            )
        )
    return StaffOrder(order=view, user_id=row.user_id, events=events, all_lines_mine=mine)


async def reveal_address(*, order_id: int, merchant_id: int | None, actor: str) -> dict:
    """The order's whole receiver phone and address, for someone whose role may see them; the
    look is recorded, as a shopper's phone is (another merchant's order is not found)."""
    found = await order_for_staff(order_id=order_id, merchant_id=merchant_id)
    await audit.record(
        actor=actor,
        action="order.reveal_address",
        object_type="order",
        object_id=order_id,
        summary=f"查看订单 {found.order.order_no} 的收货电话和地址",
    )
    return dict(found.order.address)


@unit_of_work
async def ship_for_staff(
    *, order_id: int, merchant_id: int | None, carrier: str, tracking_no: str, actor: str
) -> None:
    """Ship a paid order (the core's shipping), recorded in the audit log in the same
    transaction. A merchant ships only its own orders (another's is not found)."""
    await queries.staff_scope(order_id=order_id, merchant_id=merchant_id)
    async with write_transaction() as conn:
        event = await services.ship_in(
            conn, order_id=order_id, carrier=carrier, tracking_no=tracking_no, actor=actor
        )
        order = await Order.filter(id=order_id).using_db(conn).get()
        await audit.record(
            actor=actor,
            action="order.ship",
            object_type="order",
            object_id=order_id,
            summary=f"{order.order_no} {order.carrier} {order.tracking_no}",
            after={"carrier": order.carrier, "tracking_no": order.tracking_no},
            connection=conn,
        )
    await outbox.deliver([event])  # the shipping upload to WeChat


@dataclass(frozen=True)
class ShipRowResult:
    row: int  # the row number in the file (the header is row 1)
    order_no: str
    carrier: str
    tracking_no: str
    shipped: bool
    message: str  # why not, when not shipped


async def ship_rows(
    *, rows: list[tuple[int, str, str, str]], merchant_id: int | None, actor: str
) -> list[ShipRowResult]:
    """Ship each (row number, order number, carrier, tracking number) as a single shipment is
    shipped; one row failing does not stop the others."""
    if len(rows) > BULK_SHIP_MAX_ROWS:
        raise OrderError.INVALID_SHIPMENT.error(f"一次最多发货 {BULK_SHIP_MAX_ROWS} 单，请分批上传")
    numbers = {order_no.strip() for _, order_no, _, _ in rows if order_no.strip()}
    ids = (
        dict(await Order.filter(order_no__in=list(numbers)).values_list("order_no", "id")) if numbers else {}
    )
    seen: dict[str, int] = {}
    results = []
    for line, order_no, carrier, tracking_no in rows:
        order_no = order_no.strip()
        try:
            if order_no in seen:
                raise OrderError.INVALID_SHIPMENT.error(f"与第 {seen[order_no]} 行的订单重复")
            seen[order_no] = line
            if order_no not in ids:
                raise OrderError.NOT_FOUND.error()
            await ship_for_staff(
                order_id=ids[order_no],
                merchant_id=merchant_id,
                carrier=carrier,
                tracking_no=tracking_no,
                actor=actor,
            )
        except CommerceError as error:
            results.append(ShipRowResult(line, order_no, carrier, tracking_no, False, _row_message(error)))
        else:
            results.append(ShipRowResult(line, order_no, carrier, tracking_no, True, ""))
    return results


def _row_message(error: CommerceError) -> str:
    if error.code == OrderError.INVALID_TRANSITION.code:
        return "订单不是待发货状态（未支付、已发货或退款中）"
    return error.message


@unit_of_work
async def add_note(*, order_id: int, merchant_id: int | None, text: str, actor: str) -> None:
    """A staff note in the order's timeline (recorded in the audit log); a merchant's people
    note only their merchant's orders."""
    text = (text or "").strip()
    if not 1 <= len(text) <= NOTE_MAX:
        raise OrderError.INVALID_NOTE.error()
    await queries.staff_scope(order_id=order_id, merchant_id=merchant_id)  # not found if not theirs
    async with write_transaction() as conn:
        await services.record_event(
            conn, order_id=order_id, type_=EventType.NOTE, actor=actor, params={"text": text}
        )
        await audit.record(
            actor=actor,
            action="order.note",
            object_type="order",
            object_id=order_id,
            summary=text[:100],
            after={"text": text},
            connection=conn,
        )


async def customers_among(merchant_id: int, user_ids: set[int]) -> set[int]:
    """Those of these shoppers who have ordered from the merchant: the customers its people
    may look up."""
    if not user_ids:
        return set()
    return set(
        await Order.filter(user_id__in=list(user_ids), merchant_id=merchant_id)
        .distinct()
        .values_list("user_id", flat=True)
    )
