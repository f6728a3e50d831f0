"""Orders as their shopper sees them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from tortoise.expressions import Subquery

from commerce.fulfilment.queries import FulfilmentView, fulfilments_of
from commerce.orders.errors import OrderError
from commerce.orders.models import Checkout, Order, OrderEvent, OrderLine
from commerce.orders.states import OrderStatus
from commerce.users.services import Shopper


@dataclass(frozen=True)
class OrderLineView:
    sku_id: int
    product_id: int
    title: str
    specs: dict[str, str]
    image: str
    unit_price: int
    quantity: int
    line_total: int
    discount: int
    payable: int
    merchant_id: int = 0  # who sold it, stamped when ordered


@dataclass(frozen=True)
class OrderView:
    id: int
    order_no: str
    status: OrderStatus
    lines: list[OrderLineView]
    items_total: int
    shipping_fee: int
    discount_total: int
    payable: int
    address: dict
    pay_deadline: datetime
    created_at: datetime
    paid_at: datetime | None = None
    carrier: str = ""
    tracking_no: str = ""
    shipped_at: datetime | None = None
    completed_at: datetime | None = None
    merchant_id: int = 0  # who sells it, stamped when ordered
    fulfilment: FulfilmentView | None = None  # how it reaches the shopper, once arranged


@dataclass(frozen=True)
class CheckoutView:
    """One submission: its orders (one per merchant), paid together."""

    id: int
    checkout_no: str
    payable: int
    pay_deadline: datetime
    orders: list[OrderView]


@dataclass(frozen=True)
class OrderFacts:
    """What other contexts (payments, shipping) need of an order, whoever asks."""

    id: int
    order_no: str
    user_id: int
    status: OrderStatus
    payable: int
    pay_deadline: datetime
    summary: str  # "title 等3件", for WeChat Pay's description and the shipping item_desc
    address: dict
    checkout_id: int = 0
    merchant_id: int = 0
    refunded: int = 0  # refunded or on its way back (Order.refunded)
    shipping_fee: int = 0
    shipped_at: datetime | None = None
    completed_at: datetime | None = None
    paid_at: datetime | None = None


@dataclass(frozen=True)
class LineFacts:
    """What after-sales needs of an order line: what it sold and was paid, and what of it is
    refunded or asked back already."""

    id: int
    order_id: int
    sku_id: int
    title: str
    image: str
    specs: dict[str, str]
    quantity: int
    payable: int
    refund_quantity: int
    refund_amount: int

    @property
    def units_left(self) -> int:
        return self.quantity - self.refund_quantity

    @property
    def amount_left(self) -> int:
        return self.payable - self.refund_amount


@dataclass(frozen=True)
class CheckoutFacts:
    """What payments need of a checkout: the orders one WeChat Pay transaction pays."""

    id: int
    checkout_no: str
    user_id: int
    payable: int  # the transaction's total
    pay_deadline: datetime
    summary: str  # every order's lines summed up, for WeChat Pay's description
    orders: list[OrderFacts]  # by id


@dataclass(frozen=True)
class OrderPage:
    items: list[OrderView]
    total: int
    page: int
    page_size: int


async def get_order(*, shopper: Shopper, order_id: int) -> OrderView:
    """The shopper's own order; anyone else's is not found."""
    order = await Order.get_or_none(id=order_id, user_id=shopper.user_id)
    if order is None:
        raise OrderError.NOT_FOUND.error()
    return (await _views([order]))[0]


async def get_order_by_no(*, shopper: Shopper, order_no: str) -> OrderView:
    """The shopper's own order by its number (what shoppers quote); anyone else's is not found."""
    order = await Order.get_or_none(order_no=order_no[:32], user_id=shopper.user_id)
    if order is None:
        raise OrderError.NOT_FOUND.error()
    return (await _views([order]))[0]


async def get_checkout(*, shopper: Shopper, checkout_id: int) -> CheckoutView:
    """The shopper's own checkout with its orders; anyone else's is not found."""
    checkout = await Checkout.get_or_none(id=checkout_id, user_id=shopper.user_id)
    if checkout is None:
        raise OrderError.NOT_FOUND.error()
    orders = await Order.filter(checkout_id=checkout_id).order_by("id")
    return checkout_view(checkout, await _views(orders))


def checkout_view(checkout: Checkout, orders: list[OrderView]) -> CheckoutView:
    return CheckoutView(
        id=checkout.id,
        checkout_no=checkout.checkout_no,
        payable=checkout.payable,
        pay_deadline=checkout.pay_deadline,
        orders=orders,
    )


async def order_facts(order_id: int, conn=None) -> OrderFacts | None:
    """An order's facts for system work (no ownership check: callers are not shoppers)."""
    order = await Order.get_or_none(id=order_id).using_db(conn)
    if order is None:
        return None
    lines = (
        await OrderLine.filter(order_id=order_id)
        .using_db(conn)
        .order_by("id")
        .values_list("title", "quantity")
    )
    return _facts(order, _summary(lines))


async def orders_facts(order_ids: list[int]) -> dict[int, OrderFacts]:
    """order_facts of many orders in two queries (batches of a community sale)."""
    if not order_ids:
        return {}
    orders = await Order.filter(id__in=order_ids)
    lines: dict[int, list[tuple[str, int]]] = {}
    for order_id, title, quantity in (
        await OrderLine.filter(order_id__in=order_ids)
        .order_by("order_id", "id")
        .values_list("order_id", "title", "quantity")
    ):
        lines.setdefault(order_id, []).append((title, quantity))
    return {o.id: _facts(o, _summary(lines.get(o.id, []))) for o in orders}


async def checkout_of_order(order_id: int) -> CheckoutFacts | None:
    """The checkout the order was placed in, with all its orders (system work, no ownership)."""
    ids = await Order.filter(id=order_id).values_list("checkout_id", flat=True)
    return await checkout_facts(ids[0]) if ids else None


async def checkout_facts(checkout_id: int) -> CheckoutFacts | None:
    checkout = await Checkout.get_or_none(id=checkout_id)
    if checkout is None:
        return None
    orders = await Order.filter(checkout_id=checkout_id).order_by("id")
    lines: dict[int, list[tuple[str, int]]] = {}
    for order_id, title, quantity in (
        await OrderLine.filter(order_id__in=[o.id for o in orders])
        .order_by("order_id", "id")
        .values_list("order_id", "title", "quantity")
    ):
        lines.setdefault(order_id, []).append((title, quantity))
    return CheckoutFacts(
        id=checkout.id,
        checkout_no=checkout.checkout_no,
        user_id=checkout.user_id,
        payable=checkout.payable,
        pay_deadline=checkout.pay_deadline,
        summary=_summary([line for o in orders for line in lines.get(o.id, [])]),
        orders=[_facts(o, _summary(lines.get(o.id, []))) for o in orders],
    )


def _summary(lines: list[tuple[str, int]]) -> str:
    """ "title" for one unit, "title 等3件" for more."""
    count = sum(quantity for _, quantity in lines)
    first = lines[0][0] if lines else "商品"
    return first if count <= 1 else f"{first[:100]} 等{count}件"


def _facts(order: Order, summary: str) -> OrderFacts:
    return OrderFacts(
        id=order.id,
        order_no=order.order_no,
        user_id=order.user_id,
        status=OrderStatus(order.status),
        payable=order.payable,
        pay_deadline=order.pay_deadline,
        summary=summary,
        address=dict(order.address),
        checkout_id=order.checkout_id,
        merchant_id=order.merchant_id,
        refunded=order.refunded,
        shipping_fee=order.shipping_fee,
        shipped_at=order.shipped_at,
        completed_at=order.completed_at,
        paid_at=order.paid_at,
    )


async def lines_of_orders(order_ids: list[int]) -> dict[int, list[LineFacts]]:
    """line_facts of many orders in one query."""
    found: dict[int, list[LineFacts]] = {}
    if order_ids:
        for line in await OrderLine.filter(order_id__in=order_ids).order_by("order_id", "id"):
            found.setdefault(line.order_id, []).append(_line_facts(line))
    return found


def _line_facts(line: OrderLine) -> LineFacts:
    return LineFacts(
        id=line.id,
        order_id=line.order_id,
        sku_id=line.sku_id,
        title=line.title,
        image=line.image,
        specs=dict(line.specs),
        quantity=line.quantity,
        payable=line.payable,
        refund_quantity=line.refund_quantity,
        refund_amount=line.refund_amount,
    )


async def line_facts(order_id: int, conn=None) -> list[LineFacts]:
    """The order's lines with their refund counters (system work, no ownership)."""
    lines = await OrderLine.filter(order_id=order_id).using_db(conn).order_by("id")
    return [_line_facts(line) for line in lines]


async def shipment_of(order_id: int) -> tuple[str, str] | None:
    """(carrier, tracking number) of a shipped order."""
    rows = await Order.filter(id=order_id).exclude(tracking_no="").values_list("carrier", "tracking_no")
    return (rows[0][0], rows[0][1]) if rows else None


@dataclass(frozen=True)
class PaidOrder:
    """A paid order as the dashboards count it."""

    id: int
    user_id: int
    merchant_id: int
    status: OrderStatus
    payable: int
    paid_at: datetime
    lines: list[tuple[int, int]]  # (merchant_id stamped on the line, payable)
    refunded: int = 0  # fen refunded or on its way back through after-sales (Order.refunded)


async def orders_paid_between(start: datetime, end: datetime) -> list[PaidOrder]:
    """Orders paid in [start, end), whatever became of them since."""
    orders = await Order.filter(paid_at__gte=start, paid_at__lt=end).values(
        "id", "user_id", "merchant_id", "status", "payable", "paid_at", "refunded"
    )
    lines: dict[int, list[tuple[int, int]]] = {}
    ids = [o["id"] for o in orders]
    for order_id, merchant_id, payable in (
        await OrderLine.filter(order_id__in=ids).values_list("order_id", "merchant_id", "payable")
        if ids
        else []
    ):
        lines.setdefault(order_id, []).append((merchant_id, payable))
    return [
        PaidOrder(
            o["id"],
            o["user_id"],
            o["merchant_id"],
            OrderStatus(o["status"]),
            o["payable"],
            o["paid_at"],
            lines.get(o["id"], []),
            o["refunded"],
        )
        for o in orders
    ]


@dataclass(frozen=True)
class SettlementFacts:
    """What merchant settlement needs of an order: whether its money may be settled."""

    id: int
    order_no: str
    merchant_id: int
    status: OrderStatus
    completed_at: datetime | None
    closed_at: datetime | None  # when everything it sold was refunded


async def settlement_facts(order_ids: set[int]) -> dict[int, SettlementFacts]:
    """order id -> its settlement facts (system work, no ownership)."""
    if not order_ids:
        return {}
    ids = sorted(order_ids)
    closed = dict(
        await OrderEvent.filter(order_id__in=ids, to_status=OrderStatus.CLOSED.value).values_list(
            "order_id", "created_at"
        )
    )
    rows = await Order.filter(id__in=ids).values("id", "order_no", "merchant_id", "status", "completed_at")
    return {
        row["id"]: SettlementFacts(
            id=row["id"],
            order_no=row["order_no"],
            merchant_id=row["merchant_id"],
            status=OrderStatus(row["status"]),
            completed_at=row["completed_at"],
            closed_at=closed.get(row["id"]),
        )
        for row in rows
    }


async def count_by_status(statuses: list[OrderStatus]) -> dict[OrderStatus, list[int]]:
    """The ids of orders now in each of these statuses (what needs action)."""
    rows = await Order.filter(status__in=statuses).values_list("id", "status")
    found: dict[OrderStatus, list[int]] = {status: [] for status in statuses}
    for order_id, status in rows:
        found[OrderStatus(status)].append(order_id)
    return found


async def orders_of_merchant(merchant_id: int) -> Subquery:
    """The ids of the merchant's orders (the merchant stamped on each when it was placed), as a
    subquery to filter orders, or rows keyed by order id, in the database."""
    return Subquery(Order.filter(merchant_id=merchant_id).values("id"))


async def staff_scope(*, order_id: int, merchant_id: int | None) -> None:
    """Let staff handle the order: the platform any order, a merchant's people the orders
    stamped with their merchant (whoever owns the products now). Another merchant's order is
    not found, as one that does not exist."""
    query = Order.filter(id=order_id)
    if merchant_id is not None:
        query = query.filter(merchant_id=merchant_id)
    if not await query.exists():
        raise OrderError.NOT_FOUND.error()


async def orders_holding_merchant(order_ids: set[int], merchant_id: int) -> set[int]:
    """Those of these orders that are the merchant's."""
    if not order_ids:
        return set()
    return set(
        await Order.filter(id__in=list(order_ids), merchant_id=merchant_id).values_list("id", flat=True)
    )


async def order_id_of_number(order_no: str) -> int | None:
    """The id of the order with this number, if any (staff searches)."""
    ids = await Order.filter(order_no=order_no[:32]).values_list("id", flat=True)
    return ids[0] if ids else None


async def order_numbers(order_ids: set[int]) -> dict[int, str]:
    """order id -> order number."""
    if not order_ids:
        return {}
    return dict(await Order.filter(id__in=list(order_ids)).values_list("id", "order_no"))


async def list_orders(
    *, shopper: Shopper, status: OrderStatus | None = None, page: int = 1, page_size: int = 20
) -> OrderPage:
    query = Order.filter(user_id=shopper.user_id)
    if status is not None:
        query = query.filter(status=status)
    total = await query.count()
    orders = await query.order_by("-created_at", "-id").offset((page - 1) * page_size).limit(page_size)
    return OrderPage(items=await _views(orders), total=total, page=page, page_size=page_size)


async def views_of(orders: list[Order]) -> list[OrderView]:
    """Views of order rows at hand (their lines read in one query)."""
    return await _views(orders)


async def _views(orders: list[Order]) -> list[OrderView]:
    lines: dict[int, list[OrderLine]] = {}
    for line in await OrderLine.filter(order_id__in=[o.id for o in orders]).order_by("id"):
        lines.setdefault(line.order_id, []).append(line)
    ways = await fulfilments_of([o.id for o in orders])
    return [
        replace(view_of(order, lines.get(order.id, [])), fulfilment=ways.get(order.id)) for order in orders
    ]


def view_of(order: Order, lines: list[OrderLine]) -> OrderView:
    """The view of an order whose rows are at hand (no query): model instances, or rows just
    written, read by the same attribute names (placement's)."""
    return OrderView(
        id=order.id,
        order_no=order.order_no,
        status=OrderStatus(order.status),
        lines=[
            OrderLineView(
                sku_id=line.sku_id,
                product_id=line.product_id,
                title=line.title,
                specs=dict(line.specs),
                image=line.image,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
                discount=line.discount,
                payable=line.payable,
                merchant_id=line.merchant_id,
            )
            for line in lines
        ],
        items_total=order.items_total,
        shipping_fee=order.shipping_fee,
        discount_total=order.discount_total,
        payable=order.payable,
        address=dict(order.address),
        pay_deadline=order.pay_deadline,
        created_at=order.created_at,
        paid_at=order.paid_at,
        carrier=order.carrier,
        tracking_no=order.tracking_no,
        shipped_at=order.shipped_at,
        completed_at=order.completed_at,
        merchant_id=order.merchant_id,
    )


@dataclass(frozen=True)
class ChargedLine:
    id: int
    payable: int
    commission_rate_bps: int | None  # None: paid before rates were stamped
    product_id: int = 0  # what a leader's commission rate is looked up by


@dataclass(frozen=True)
class ChargedOrder:
    """What the books need of a paid order: what it was paid and on what terms."""

    id: int
    order_no: str
    merchant_id: int
    payable: int
    payment_fee_bps: int | None
    lines: list[ChargedLine]


async def charged_orders(order_ids: list[int]) -> list[ChargedOrder]:
    """The orders (by id) with their lines' payables and stamped rates."""
    if not order_ids:
        return []
    lines: dict[int, list[ChargedLine]] = {}
    for line_id, order_id, payable, rate, product_id in (
        await OrderLine.filter(order_id__in=order_ids)
        .order_by("id")
        .values_list("id", "order_id", "payable", "commission_rate_bps", "product_id")
    ):
        lines.setdefault(order_id, []).append(ChargedLine(line_id, payable, rate, product_id))
    return [
        ChargedOrder(o.id, o.order_no, o.merchant_id, o.payable, o.payment_fee_bps, lines.get(o.id, []))
        for o in await Order.filter(id__in=order_ids).order_by("id")
    ]
