"""Orders as their shopper sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Subquery

from commerce.catalog.queries import merchants_of_products, product_ids_of_merchant
from commerce.orders.errors import OrderError
from commerce.orders.models import Checkout, Order, OrderLine
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


async def order_facts(order_id: int) -> OrderFacts | None:
    """An order's facts for system work (no ownership check: callers are not shoppers)."""
    order = await Order.get_or_none(id=order_id)
    if order is None:
        return None
    lines = await OrderLine.filter(order_id=order_id).order_by("id").values_list("title", "quantity")
    count = sum(quantity for _, quantity in lines)
    first = lines[0][0] if lines else "商品"
    summary = first if count <= 1 else f"{first[:100]} 等{count}件"
    return OrderFacts(
        id=order.id,
        order_no=order.order_no,
        user_id=order.user_id,
        status=OrderStatus(order.status),
        payable=order.payable,
        pay_deadline=order.pay_deadline,
        summary=summary,
        address=dict(order.address),
    )


async def shipment_of(order_id: int) -> tuple[str, str] | None:
    """(carrier, tracking number) of a shipped order."""
    rows = await Order.filter(id=order_id).exclude(tracking_no="").values_list("carrier", "tracking_no")
    return (rows[0][0], rows[0][1]) if rows else None


@dataclass(frozen=True)
class PaidOrder:
    """A paid order as the dashboards count it."""

    id: int
    user_id: int
    status: OrderStatus
    payable: int
    paid_at: datetime
    lines: list[tuple[int, int]]  # (product_id, payable)


async def orders_paid_between(start: datetime, end: datetime) -> list[PaidOrder]:
    """Orders paid in [start, end), whatever became of them since."""
    orders = await Order.filter(paid_at__gte=start, paid_at__lt=end).values(
        "id", "user_id", "status", "payable", "paid_at"
    )
    lines: dict[int, list[tuple[int, int]]] = {}
    ids = [o["id"] for o in orders]
    for order_id, product_id, payable in (
        await OrderLine.filter(order_id__in=ids).values_list("order_id", "product_id", "payable")
        if ids
        else []
    ):
        lines.setdefault(order_id, []).append((product_id, payable))
    return [
        PaidOrder(
            o["id"],
            o["user_id"],
            OrderStatus(o["status"]),
            o["payable"],
            o["paid_at"],
            lines.get(o["id"], []),
        )
        for o in orders
    ]


async def count_by_status(statuses: list[OrderStatus]) -> dict[OrderStatus, list[int]]:
    """The ids of orders now in each of these statuses (what needs action)."""
    rows = await Order.filter(status__in=statuses).values_list("id", "status")
    found: dict[OrderStatus, list[int]] = {status: [] for status in statuses}
    for order_id, status in rows:
        found[OrderStatus(status)].append(order_id)
    return found


async def orders_of_merchant(merchant_id: int, products: set[int] | None = None) -> Subquery:
    """The ids of the orders holding any of the merchant's products (read unless the caller has
    them), as a subquery to filter orders, or rows keyed by order id, in the database."""
    if products is None:
        products = await product_ids_of_merchant(merchant_id)
    return Subquery(OrderLine.filter(product_id__in=list(products) or [0]).values("order_id"))


async def staff_scope(*, order_id: int, merchant_id: int | None) -> bool:
    """Whether staff may handle the whole order: the platform always; a merchant's people when
    every line is their merchant's (False: only some are). Not found for an order that holds
    none of the merchant's products, as for one that does not exist."""
    if not await Order.exists(id=order_id):
        raise OrderError.NOT_FOUND.error()
    if merchant_id is None:
        return True
    products = await OrderLine.filter(order_id=order_id).values_list("product_id", flat=True)
    owners = await merchants_of_products(set(products))
    mine = [p for p in products if owners.get(p) == merchant_id]
    if not mine:
        raise OrderError.NOT_FOUND.error()
    return len(mine) == len(products)


async def orders_holding_merchant(order_ids: set[int], merchant_id: int) -> set[int]:
    """Those of these orders that hold at least one of the merchant's products."""
    if not order_ids:
        return set()
    rows = await OrderLine.filter(order_id__in=list(order_ids)).values_list("order_id", "product_id")
    owners = await merchants_of_products({product_id for _, product_id in rows})
    return {order_id for order_id, product_id in rows if owners.get(product_id) == merchant_id}


async def orders_wholly_of_merchant(order_ids: set[int], merchant_id: int) -> set[int]:
    """Those of these orders whose every line is the merchant's (its people may see their money)."""
    if not order_ids:
        return set()
    rows = await OrderLine.filter(order_id__in=list(order_ids)).values_list("order_id", "product_id")
    owners = await merchants_of_products({product_id for _, product_id in rows})
    foreign = {order_id for order_id, product_id in rows if owners.get(product_id) != merchant_id}
    return {order_id for order_id, _ in rows} - foreign


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
    return [view_of(order, lines.get(order.id, [])) for order in orders]


def view_of(order: Order, lines: list[OrderLine]) -> OrderView:
    """The view of an order whose rows are at hand (no query)."""
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
    )
