"""Order use cases: place an order (idempotent, stock reserved atomically), cancel it, move it
along its lifecycle. Every status change is a conditional update plus an event row."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from types import SimpleNamespace

import redis.asyncio as redis
from tortoise.exceptions import IntegrityError

from commerce import clock, outbox
from commerce.cart import services as cart
from commerce.cart.services import LineState
from commerce.config import Settings
from commerce.db import execute, fetch_rows, insert, insert_many, model_row
from commerce.errors import CommerceError
from commerce.fulfilment import records as fulfilment
from commerce.fulfilment.choice import Contact, FulfilmentChoice
from commerce.fulfilment.errors import FulfilmentError
from commerce.fulfilment.queries import PickupPointView
from commerce.fulfilment.records import record_pickup_choice
from commerce.jobs import services as jobs
from commerce.ledger import queries as ledger
from commerce.lifecycle import Lifecycle, Transition
from commerce.metrics import ORDERS_PLACED
from commerce.orders import claims, limits, queries
from commerce.orders.checkout import preview_checkout
from commerce.orders.errors import CheckoutError, OrderError
from commerce.orders.events import OrderPlaced, OrderStatusChanged
from commerce.orders.models import Checkout, Order, OrderAdjustment, OrderClaim, OrderEvent, OrderLine
from commerce.orders.queries import CheckoutView, OrderView
from commerce.orders.states import ALLOWED_TRANSITIONS, EventType, OrderStatus
from commerce.pricing.pipeline import CheckoutQuote, Choices, Claim, PricedAdjustment, PricedLine
from commerce.shipping.queries import CARRIERS, carrier_name
from commerce.transactions import unit_of_work, write_transaction
from commerce.users.services import Shopper, lock_shopper

_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_TRACKING_NO = re.compile(r"^[A-Za-z0-9-]{4,64}$")
ORDER_CREATED = OrderPlaced.topic
ORDER_STATUS_CHANGED = OrderStatusChanged.topic
CANCEL_EXPIRED = "cancel_expired_orders"  # the scheduled jobs' names in their failure records
COMPLETE_SHIPPED = "complete_shipped_orders"


class _OutOfStock(Exception):
    """Raised inside the order transaction to roll back the claims already taken."""


@dataclass(frozen=True)
class CheckoutPlan:
    """A checked quote, ready to commit: one order draft per merchant and their claims."""

    quote: CheckoutQuote
    address: dict  # the address as it is now, copied onto each order
    wanted: list[tuple[int, int]]  # (sku_id, quantity) of every line, for the limits
    pickup_point: PickupPointView | None = None  # chosen at checkout: every order collected there


async def place_order(
    *,
    shopper: Shopper,
    idempotency_key: str,
    settings: Settings,
    redis_client: redis.Redis,
    items: list[tuple[int, int]] | None = None,
    from_cart: bool = False,
    address_id: int | None = None,
    choices: Choices | None = None,
    fulfilment: FulfilmentChoice | None = None,
    contact: Contact | None = None,
) -> CheckoutView:
    """Create the checkout (one order per merchant) once per idempotency key; the same key
    returns the same checkout. Delivered to the address, or collected at a pickup point by
    the contact (or the address's receiver)."""
    if not _IDEMPOTENCY_KEY.match(idempotency_key or ""):
        raise OrderError.INVALID_IDEMPOTENCY_KEY.error()
    try:
        # One count per checkout, however many merchants' orders it makes: one shopper action.
        # The count knows the keys of its window: only a key it saw before is looked up (the
        # same request again: the same checkout). A key it forgot (sent again after the window,
        # Redis emptied) is caught below, or by the unique key in commit_checkout.
        repeated = await limits.count_order_attempt(
            redis_client, user_id=shopper.user_id, idempotency_key=idempotency_key, settings=settings
        )
        if repeated and (existing := await _placed_with_key(shopper.user_id, idempotency_key)):
            return await queries.get_checkout(shopper=shopper, checkout_id=existing)
        placed = await _place(
            shopper=shopper,
            idempotency_key=idempotency_key,
            settings=settings,
            items=items,
            from_cart=from_cart,
            address_id=address_id,
            choices=choices,
            fulfilment=fulfilment,
            contact=contact,
        )
        ORDERS_PLACED.inc(len(placed.orders))  # committed; a repeated key returns above, uncounted
        return placed
    except CommerceError:
        # The same key raced in and committed while this request priced its items (the cart
        # lines it ordered are gone now, the unpaid limits count it), or came back after the
        # rate window forgot it: that checkout is the answer, not the refusal.
        if placed := await _placed_with_key(shopper.user_id, idempotency_key):
            return await queries.get_checkout(shopper=shopper, checkout_id=placed)
        raise


@unit_of_work
async def _place(
    *,
    shopper: Shopper,
    idempotency_key: str,
    settings: Settings,
    items: list[tuple[int, int]] | None,
    from_cart: bool,
    address_id: int | None,
    choices: Choices | None,
    fulfilment: FulfilmentChoice | None = None,
    contact: Contact | None = None,
) -> CheckoutView:
    """Plan and commit: the unit that re-runs on a lock conflict (from the quote: prices and
    stock may have moved meanwhile)."""
    plan = await plan_checkout(
        shopper=shopper,
        settings=settings,
        items=items,
        from_cart=from_cart,
        address_id=address_id,
        choices=choices,
        fulfilment=fulfilment,
        contact=contact,
    )
    return await commit_checkout(
        plan, shopper=shopper, idempotency_key=idempotency_key, settings=settings, from_cart=from_cart
    )


async def plan_checkout(
    *,
    shopper: Shopper,
    settings: Settings,
    items: list[tuple[int, int]] | None,
    from_cart: bool,
    address_id: int | None,
    choices: Choices | None = None,
    fulfilment: FulfilmentChoice | None = None,
    contact: Contact | None = None,
) -> CheckoutPlan:
    """Quote the checkout and refuse what cannot be submitted, before anything is taken."""
    preview = await preview_checkout(
        shopper=shopper,
        items=items,
        from_cart=from_cart,
        address_id=address_id,
        settings=settings,
        choices=choices,
        fulfilment=fulfilment,
        contact=contact,
    )
    if preview.problems:
        details = [
            {"sku_id": p.sku_id, "code": p.state.value, "message": p.message} for p in preview.problems
        ]
        only_stock = all(
            p.state in (LineState.OUT_OF_STOCK, LineState.EXCEEDS_STOCK) for p in preview.problems
        )
        code = OrderError.OUT_OF_STOCK if only_stock else OrderError.ITEMS_UNAVAILABLE
        raise code.error(fields=details)
    if preview.order_problem is not None:
        raise CheckoutError.PAYABLE_TOO_LARGE.error(preview.order_problem.message)
    if preview.address is None:
        if preview.pickup_point is not None:
            raise FulfilmentError.CONTACT_REQUIRED.error()
        raise OrderError.ADDRESS_REQUIRED.error()
    # Its fields are plain values: a shallow copy (asdict's deep one showed in the profile).
    address = {k: v for k, v in vars(preview.address).items() if k not in ("id", "is_default")}
    wanted = [(priced.line.sku_id, priced.line.quantity) for priced in preview.quote.lines]
    return CheckoutPlan(
        quote=preview.quote, address=address, wanted=wanted, pickup_point=preview.pickup_point
    )


async def commit_checkout(
    plan: CheckoutPlan, *, shopper: Shopper, idempotency_key: str, settings: Settings, from_cart: bool
) -> CheckoutView:
    """One transaction: the shopper's lock, the limits, every claim, then the checkout, its
    orders, lines, adjustments and claims, and their events. Nothing is taken unless all is."""
    now = clock.now()
    deadline = now + timedelta(minutes=settings.order_payment_minutes)
    quote = plan.quote
    try:
        async with write_transaction() as conn:
            # One shopper's checkouts go one at a time (others' do not wait), so the unpaid
            # limits count what is committed. The same key committed meanwhile: a refusal here
            # is answered with that checkout (place_order), or the unique key refuses the insert.
            await lock_shopper(conn, user_id=shopper.user_id)
            await limits.check_unpaid_limits(
                conn, user_id=shopper.user_id, wanted=plan.wanted, settings=settings
            )
            if not await claims.take_all(conn, [claim for order in quote.orders for claim in order.claims]):
                raise _OutOfStock
            numbers = _fresh_numbers(len(quote.orders))
            checkout_row = model_row(
                Checkout,
                {
                    "checkout_no": numbers[0],
                    "user_id": shopper.user_id,
                    "idempotency_key": idempotency_key,
                    "payable": quote.payable,
                    "pay_deadline": deadline,
                    "created_at": now,
                },
            )
            checkout_id = await insert(Checkout._meta.db_table, checkout_row, connection=conn)
            checkout = SimpleNamespace(id=checkout_id, **checkout_row)  # as views read it (_insert_orders)
            placed = await _insert_orders(
                conn,
                quote,
                numbers=numbers,
                checkout_id=checkout.id,
                user_id=shopper.user_id,
                idempotency_key=idempotency_key,
                address=plan.address,
                pay_deadline=deadline,
                now=now,
            )
            events = [
                await outbox.emit(OrderPlaced(order_id=order.id), connection=conn) for order, _ in placed
            ]
            views = [queries.view_of(order, lines) for order, lines in placed]
            if plan.pickup_point is not None:  # each order's fulfilment: awaiting at the chosen point
                for index, (order, _) in enumerate(placed):
                    chosen = await record_pickup_choice(conn, order_id=order.id, point=plan.pickup_point)
                    views[index] = replace(views[index], fulfilment=chosen)
            if from_cart:
                await cart.remove_ordered(
                    shopper=shopper, sku_ids=[sku for sku, _ in plan.wanted], connection=conn
                )
    except _OutOfStock:
        raise OrderError.OUT_OF_STOCK.error() from None
    except IntegrityError:
        # The same key raced in from another request and won: answer with its checkout.
        existing = await _placed_with_key(shopper.user_id, idempotency_key)
        if existing is None:
            raise
        return await queries.get_checkout(shopper=shopper, checkout_id=existing)
    await outbox.deliver(events)
    return queries.checkout_view(checkout, views)


async def _insert_orders(
    conn,
    quote: CheckoutQuote,
    *,
    numbers: list[str],
    checkout_id: int,
    user_id: int,
    idempotency_key: str,
    address: dict,
    pay_deadline,
    now,
) -> list[tuple[SimpleNamespace, list[SimpleNamespace]]]:
    """Each merchant's order, then the lines, adjustments, claims and creation events of them
    all: one INSERT per table for the whole checkout, whatever the number of merchants (each
    statement is a round trip to the database, the costliest part of placing an order). Rows
    are built from the models' fields (commerce.db.model_row): a new column without a default
    cannot be missed. Plain INSERTs: the ORM's create costs more CPU than the statement."""
    phone = str(address.get("phone", ""))[:20]
    placed: list[tuple[SimpleNamespace, list[SimpleNamespace]]] = []
    line_rows: list[dict] = []
    adjustment_rows: list[dict] = []
    taken: list[tuple[int, list[Claim]]] = []
    actor = f"shopper:{user_id}"
    for order_quote, order_no in zip(quote.orders, numbers, strict=True):
        row = model_row(
            Order,
            {
                "order_no": order_no,
                "user_id": user_id,
                "checkout_id": checkout_id,
                "merchant_id": order_quote.merchant_id,
                "status": OrderStatus.PENDING_PAYMENT,
                "idempotency_key": idempotency_key,
                "items_total": order_quote.items_total,
                "shipping_fee": order_quote.shipping_fee,
                "discount_total": order_quote.discount_total,
                "payable": order_quote.payable,
                "address": address,
                "receiver_name": str(address.get("receiver_name", ""))[:50],
                "receiver_phone": phone,
                "receiver_phone_tail": phone[-4:],
                "pay_deadline": pay_deadline,
                "created_at": now,
                "updated_at": now,
            },
        )
        order_id = await insert(Order._meta.db_table, row, connection=conn)
        lines = [_line_row(order_id, order_quote.merchant_id, priced) for priced in order_quote.lines]
        line_rows += lines
        adjustment_rows += [_adjustment_row(order_id, adj) for adj in order_quote.adjustments]
        taken.append((order_id, order_quote.claims))
        # The rows as the views read them: a model instance per row cost ~0.1 ms of CPU each.
        placed.append((SimpleNamespace(id=order_id, **row), [SimpleNamespace(**line) for line in lines]))
    await insert_many(OrderLine._meta.db_table, line_rows, connection=conn)
    await insert_many(OrderAdjustment._meta.db_table, adjustment_rows, connection=conn)
    await claims.record(conn, taken)
    created = [
        _event_row(order.id, EventType.CREATED, actor, to=OrderStatus.PENDING_PAYMENT) for order, _ in placed
    ]
    await insert_many(OrderEvent._meta.db_table, created, connection=conn)
    return placed


def _line_row(order_id: int, merchant_id: int, priced: PricedLine) -> dict:
    return model_row(
        OrderLine,
        {
            "order_id": order_id,
            "sku_id": priced.line.sku_id,
            "product_id": priced.line.product_id,
            "merchant_id": merchant_id,
            "title": priced.line.title,
            "specs": priced.line.specs,
            "image": priced.line.image,
            "unit_price": priced.line.unit_price,
            "quantity": priced.line.quantity,
            "line_total": priced.line_total,
            "discount": priced.discount,
            "payable": priced.payable,
        },
    )


def _adjustment_row(order_id: int, adj: PricedAdjustment) -> dict:
    return model_row(
        OrderAdjustment,
        {
            "order_id": order_id,
            "kind": adj.kind,
            "source_id": adj.source_id,
            "label": adj.label,
            "amount": adj.amount,
            "split": {str(sku): part for sku, part in adj.split.items()},
        },
    )


async def _placed_with_key(user_id: int, idempotency_key: str, conn=None) -> int | None:
    """The id of this shopper's checkout placed with this key, if any."""
    rows = await fetch_rows(
        "SELECT `id` FROM `checkout` WHERE `user_id` = ? AND `idempotency_key` = ?",
        [user_id, idempotency_key],
        connection=conn,
    )
    return rows[0]["id"] if rows else None


def _fresh_numbers(count: int) -> list[str]:
    """Human-readable numbers: Shanghai date and time, then eight random digits (the first is
    also the checkout's). A clash needs two in the same second drawing the same of 10^8
    numbers; the unique index would refuse it (and the shopper's retry with the same key
    would succeed)."""
    stamp = clock.to_shanghai(clock.now()).strftime("%y%m%d%H%M%S")
    numbers: list[str] = []
    while len(numbers) < count:
        number = stamp + f"{secrets.randbelow(10**8):08d}"
        if number not in numbers:
            numbers.append(number)
    return numbers


async def cancel_order(*, shopper: Shopper, order_id: int, reason: str = "") -> OrderView:
    """The shopper cancels an unpaid order, and with it the other orders of its checkout (one
    payment pays them all); their stock goes back on sale."""
    view = await queries.get_order(shopper=shopper, order_id=order_id)  # someone else's is a 404
    if view.status is OrderStatus.GROUPING:
        raise OrderError.WAITING_FOR_GROUP.error()
    await _cancel(order_id, actor=f"shopper:{shopper.user_id}", reason=reason or "买家取消")
    return await queries.get_order(shopper=shopper, order_id=order_id)


async def cancel_expired_orders(*, limit: int = 200) -> int:
    """Cancel unpaid orders past their deadline (the scheduler runs this); how many were. One
    that fails is recorded and retried by a later run; the others are cancelled meanwhile."""
    put_off = await jobs.put_off(job=CANCEL_EXPIRED, item_kind="order")
    due = (
        await Order.filter(status=OrderStatus.PENDING_PAYMENT, pay_deadline__lte=clock.now())
        .exclude(id__in=put_off or [0])
        .order_by("pay_deadline")
        .limit(limit)
        .values_list("id", flat=True)
    )

    async def cancel(order_id: int) -> bool:
        try:
            await _cancel(order_id, actor="system:scheduler", reason="超时未支付")
        except CommerceError as exc:  # paid meanwhile, or cancelled by its shopper: not ours to do
            if exc.code != OrderError.INVALID_TRANSITION.code:
                raise
            return False
        return True

    return await jobs.each_item(job=CANCEL_EXPIRED, item_kind="order", items=due, item_id=int, handle=cancel)


async def cancel_unpaid(*, order_id: int, actor: str, reason: str) -> bool:
    """The system cancels an unpaid order (and its checkout's other unpaid orders) that may no
    longer be paid: a community sale cut off. False when it was paid or cancelled meanwhile;
    money arriving for it later goes back to the shopper by itself."""
    try:
        await _cancel(order_id, actor=actor, reason=reason)
    except CommerceError as exc:
        if exc.code != OrderError.INVALID_TRANSITION.code:
            raise
        return False
    return True


@unit_of_work
async def _cancel(order_id: int, *, actor: str, reason: str) -> None:
    """Cancel the order and every other unpaid order of its checkout, in one transaction: a
    checkout is paid whole or not at all. Refused (INVALID_TRANSITION) when this order is not
    unpaid any more."""
    async with write_transaction() as conn:
        checkout = await Order.filter(id=order_id).using_db(conn).values_list("checkout_id", flat=True)
        siblings = (
            await Order.filter(checkout_id=checkout[0], status=OrderStatus.PENDING_PAYMENT)
            .using_db(conn)
            .order_by("id")
            .values_list("id", flat=True)
            if checkout
            else []
        )
        events = []
        for sibling in sorted({order_id, *siblings}):
            params = {"reason": reason}
            events.append(
                await transition(
                    conn, sibling, OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED, actor, params
                )
            )
            await claims.release_all(conn, order_id=sibling)
    await outbox.deliver(events)  # closes the checkout's prepay at WeChat Pay (once: then it is closed)


async def transition(
    conn,
    order_id: int,
    expected: OrderStatus,
    new: OrderStatus,
    actor: str,
    params: dict | None = None,
    changes: dict | None = None,
) -> outbox.OutboxEvent:
    """Move an order from `expected` to `new` inside the caller's transaction, or refuse.

    `changes` are further columns set in the same conditional update. Zero rows means the
    order is not where we thought (someone moved first): never overwrite. Returns the outbox
    event, for the caller to deliver after commit.
    """
    moved = await ORDER_LIFECYCLE.move(
        conn,
        order_id,
        expected,
        new,
        actor=actor,
        params=params,
        changes=changes,
        event=OrderStatusChanged(order_id=order_id, from_status=expected, to_status=new),
    )
    assert moved.outbox is not None
    return moved.outbox


async def _record_move(conn, moved: Transition[OrderStatus]) -> None:
    await _record(
        conn,
        moved.object_id,
        EventType.STATUS_CHANGED,
        moved.actor,
        frm=moved.frm,
        to=moved.to,
        params=moved.params,
    )


ORDER_LIFECYCLE = Lifecycle(
    model=Order,
    transitions=ALLOWED_TRANSITIONS,
    refusal=OrderError.INVALID_TRANSITION.error,
    record=_record_move,
)


@dataclass(frozen=True)
class ChargeTerms:
    """What the books charge an order when it is paid, read before the payment's transaction."""

    payment_fee_bps: int
    line_rates: dict[int, int]  # order line id -> commission in basis points
    waits: bool = False  # it holds a claim (a group seat) that makes it wait when paid


async def charge_terms(order_ids: list[int]) -> dict[int, ChargeTerms]:
    """Each order's terms as they stand now: the fee setting, each line's category rate."""
    lines = await OrderLine.filter(order_id__in=order_ids).values_list("id", "order_id", "product_id")
    rates = await ledger.commission_rates_for_products([product_id for _, _, product_id in lines])
    fee = ledger.terms().payment_fee_bps
    kinds: dict[int, list[str]] = {}
    for order_id, kind in await OrderClaim.filter(order_id__in=order_ids).values_list("order_id", "kind"):
        kinds.setdefault(order_id, []).append(kind)
    terms = {
        order_id: ChargeTerms(fee, {}, claims.waits_when_paid(kinds.get(order_id, [])))
        for order_id in order_ids
    }
    for line_id, order_id, product_id in lines:
        terms[order_id].line_rates[line_id] = rates[product_id]
    return terms


async def mark_paid(
    conn, *, order_id: int, actor: str, params: dict, terms: ChargeTerms | None = None
) -> bool:
    """Inside the payment's transaction: pending_payment → paid (or grouping, when a claim it
    holds makes it wait: a group seat), stamping what the books charge (`terms`, read before
    the transaction where the caller can). False when the order cannot take the money any
    more (cancelled meanwhile, or paid through another attempt)."""
    if terms is None:
        terms = (await charge_terms([order_id]))[order_id]
    try:
        await transition(
            conn,
            order_id,
            OrderStatus.PENDING_PAYMENT,
            OrderStatus.GROUPING if terms.waits else OrderStatus.PAID,
            actor,
            params,
            changes={"paid_at": clock.now(), "payment_fee_bps": terms.payment_fee_bps},
        )
    except CommerceError as exc:
        if exc.code != OrderError.INVALID_TRANSITION.code:
            raise
        return False
    if terms.line_rates:  # one statement for every line of the order
        cases = " ".join("WHEN ? THEN ?" for _ in terms.line_rates)
        await execute(
            f"UPDATE `order_line` SET `commission_rate_bps` = CASE `id` {cases} END WHERE `order_id` = ?",
            [v for item in terms.line_rates.items() for v in item] + [order_id],
            connection=conn,
        )
    return True


async def end_grouping(
    conn, *, order_id: int, succeeded: bool, actor: str, params: dict | None = None
) -> outbox.OutboxEvent:
    """Inside the group's transaction: a waiting order is paid (its group succeeded: it is
    fulfilled as any paid order) or closed (its group failed: it is refunded in full)."""
    new = OrderStatus.PAID if succeeded else OrderStatus.CLOSED
    return await transition(conn, order_id, OrderStatus.GROUPING, new, actor, params)


async def take_refund(conn, *, order_id: int, amount: int) -> bool:
    """Inside the refund's transaction: count `amount` as refunded for the order, if the order
    still holds that much of what it was paid. One conditional update (the row stays locked to
    the commit), so concurrent refunds of one order never add up to more than its payable."""
    taken = await execute(
        "UPDATE `shop_order` SET `refunded` = `refunded` + ? WHERE `id` = ? AND `refunded` + ? <= `payable`",
        [amount, order_id, amount],
        connection=conn,
    )
    return bool(taken)


async def give_back_refund(conn, *, order_id: int, amount: int) -> None:
    """Inside the transaction of a refund that will not happen (refused): the amount may be
    refunded again."""
    await execute(
        "UPDATE `shop_order` SET `refunded` = `refunded` - ? WHERE `id` = ? AND `refunded` >= ?",
        [amount, order_id, amount],
        connection=conn,
    )


async def take_line_refund(conn, *, order_id: int, order_line_id: int, quantity: int, amount: int) -> bool:
    """Inside an after-sales request's transaction: count `quantity` units and `amount` fen of
    the line as refunded (or asked back), if the line still holds that many of what it sold and
    was paid. One conditional update, so two requests at once never take a unit twice."""
    taken = await execute(
        "UPDATE `order_line` SET `refund_quantity` = `refund_quantity` + ?,"
        " `refund_amount` = `refund_amount` + ?"
        " WHERE `id` = ? AND `order_id` = ? AND `refund_quantity` + ? <= `quantity`"
        " AND `refund_amount` + ? <= `payable`",
        [quantity, amount, order_line_id, order_id, quantity, amount],
        connection=conn,
    )
    return bool(taken)


async def give_back_line_refund(conn, *, order_line_id: int, quantity: int, amount: int) -> None:
    """Inside the transaction of a request that will not be refunded (refused, withdrawn):
    the units and money may be asked for again."""
    await execute(
        "UPDATE `order_line` SET `refund_quantity` = `refund_quantity` - ?,"
        " `refund_amount` = `refund_amount` - ?"
        " WHERE `id` = ? AND `refund_quantity` >= ? AND `refund_amount` >= ?",
        [quantity, amount, order_line_id, quantity, amount],
        connection=conn,
    )


async def release_refunded_units(conn, *, order_id: int, units: dict[int, int], goods_back: bool) -> int:
    """Inside an after-sales refund's transaction: what the order's claims give back for the
    refunded units (sku id -> units), by each claim kind's rule (commerce.orders.claims)."""
    return await claims.release_for_refund(
        conn, order_id=order_id, refunded=claims.RefundedGoods(units=units, goods_back=goods_back)
    )


async def close_refunded(conn, *, order_id: int, actor: str, params: dict) -> outbox.OutboxEvent | None:
    """Inside the transaction of the refund that returned the last of what the order sold:
    the order closes (from paid, shipped or completed). None when it is closed already."""
    for _ in range(3):  # a move from a status read: re-read when it moved meanwhile (shipped)
        status = await Order.filter(id=order_id).using_db(conn).values_list("status", flat=True)
        current = OrderStatus(status[0])
        if current not in (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED):
            return None
        moved = await ORDER_LIFECYCLE.try_move(
            conn,
            order_id,
            current,
            OrderStatus.CLOSED,
            actor=actor,
            params=params,
            event=OrderStatusChanged(order_id=order_id, from_status=current, to_status=OrderStatus.CLOSED),
        )
        if moved is not None:
            return moved.outbox
    raise OrderError.INVALID_TRANSITION.error()


async def record_event(conn, *, order_id: int, type_: EventType, actor: str, params: dict) -> None:
    """An event that changes no status (money returned, a refund that failed)."""
    status = await Order.filter(id=order_id).using_db(conn).values_list("status", flat=True)
    current = OrderStatus(status[0])
    await _record(conn, order_id, type_, actor, frm=current, to=current, params=params)


@unit_of_work
async def ship_order(*, order_id: int, carrier: str, tracking_no: str, actor: str) -> None:
    """The merchant hands a paid order to a carrier."""
    async with write_transaction() as conn:
        event = await ship_in(conn, order_id=order_id, carrier=carrier, tracking_no=tracking_no, actor=actor)
    await outbox.deliver([event])  # the shipping upload to WeChat


async def ship_in(conn, *, order_id: int, carrier: str, tracking_no: str, actor: str) -> outbox.OutboxEvent:
    """Ship inside the caller's transaction (staff pages audit in the same one); the outbox
    event is the caller's to deliver after commit."""
    name, tracking_no = carrier_name(carrier or ""), (tracking_no or "").strip()
    if name is None or not _TRACKING_NO.match(tracking_no):
        raise OrderError.INVALID_SHIPMENT.error(fields=[{"carriers": sorted(CARRIERS.values())}])
    shipment = {"carrier": name, "tracking_no": tracking_no}
    event = await transition(
        conn,
        order_id,
        OrderStatus.PAID,
        OrderStatus.SHIPPED,
        actor,
        params=shipment,
        changes={**shipment, "shipped_at": clock.now()},
    )
    # Nothing left to send when after-sales took back every unit before shipment (the order
    # closes when the refund succeeds): rolled back. After the order's row is held, so a
    # request racing in has either committed (seen) or waits for it.
    if not await _units_left(conn, order_id):
        raise OrderError.INVALID_TRANSITION.error()
    # The order's way to its shopper (an order waiting for pickup is refused: rolled back).
    await fulfilment.record_express(conn, order_id=order_id, carrier=name, tracking_no=tracking_no)
    return event


async def _units_left(conn, order_id: int) -> bool:
    """Whether any unit of the order is not refunded or asked back by after-sales."""
    rows = await fetch_rows(
        "SELECT 1 AS `one` FROM `order_line` WHERE `order_id` = ? AND `refund_quantity` < `quantity` LIMIT 1",
        [order_id],
        connection=conn,
    )
    return bool(rows)


async def hold_paid(conn, *, order_id: int) -> None:
    """Inside the caller's transaction: lock a paid order's row to the commit (a fulfilment
    being arranged), or refuse (INVALID_TRANSITION) when it is not paid."""
    held = await execute(
        "UPDATE `shop_order` SET `updated_at` = ? WHERE `id` = ? AND `status` = ?",
        [clock.now(), order_id, OrderStatus.PAID.value],
        connection=conn,
    )
    if not held:
        raise OrderError.INVALID_TRANSITION.error()


@unit_of_work
async def confirm_receipt(*, shopper: Shopper, order_id: int) -> OrderView:
    """The shopper says the parcel arrived."""
    await queries.get_order(shopper=shopper, order_id=order_id)  # ownership first
    async with write_transaction() as conn:
        await transition(
            conn,
            order_id,
            OrderStatus.SHIPPED,
            OrderStatus.COMPLETED,
            f"shopper:{shopper.user_id}",
            changes={"completed_at": clock.now()},
        )
        await fulfilment.deliver_express(conn, order_id=order_id, actor=f"shopper:{shopper.user_id}")
    return await queries.get_order(shopper=shopper, order_id=order_id)


async def complete_shipped_orders(*, after_days: int, limit: int = 200) -> int:
    """Complete orders shipped more than `after_days` ago (the scheduler runs this); one that
    fails is recorded and retried by a later run, the others completed meanwhile."""
    from commerce.aftersales import queries as aftersales  # it reads orders: imported when run

    put_off = await jobs.put_off(job=COMPLETE_SHIPPED, item_kind="order")
    # A shipped order with an after-sales request open (a return on its way, say) waits: the
    # shopper has not received what they keep; it completes once the request is done.
    paused = await aftersales.orders_with_open_requests()
    due = (
        await Order.filter(
            status=OrderStatus.SHIPPED, shipped_at__lte=clock.now() - timedelta(days=after_days)
        )
        .exclude(id__in=[*put_off, *paused] or [0])
        .order_by("shipped_at")
        .limit(limit)
        .values_list("id", flat=True)
    )

    async def complete(order_id: int) -> bool:
        try:
            await _complete_shipped(order_id)
        except CommerceError as exc:  # confirmed by its shopper meanwhile
            if exc.code != OrderError.INVALID_TRANSITION.code:
                raise
            return False
        return True

    return await jobs.each_item(
        job=COMPLETE_SHIPPED, item_kind="order", items=due, item_id=int, handle=complete
    )


@unit_of_work
async def _complete_shipped(order_id: int) -> None:
    async with write_transaction() as conn:
        await transition(
            conn,
            order_id,
            OrderStatus.SHIPPED,
            OrderStatus.COMPLETED,
            "system:scheduler",
            params={"reason": "自动确认收货"},
            changes={"completed_at": clock.now()},
        )
        await fulfilment.deliver_express(conn, order_id=order_id, actor="system:scheduler")


async def _record(conn, order_id: int, type_: EventType, actor: str, **change) -> None:
    """Append one event row to the order's history (`change`: _event_row's frm, to, params)."""
    await insert(OrderEvent._meta.db_table, _event_row(order_id, type_, actor, **change), connection=conn)


def _event_row(
    order_id: int,
    type_: EventType,
    actor: str,
    *,
    frm: OrderStatus | None = None,
    to: OrderStatus,
    params=None,
) -> dict:
    return {
        "order_id": order_id,
        "type": type_.value,
        "from_status": frm.value if frm else "",
        "to_status": to.value,
        "actor": actor,
        "params": params or {},
        "created_at": clock.now(),
    }
