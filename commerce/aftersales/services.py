"""What a shopper does after paying: ask for money back on some lines (refund only, or return
and refund), withdraw the request, send the goods back.

Policy: a request takes its units and money from the order's lines (and the order's refunded
total) in its own transaction, by conditional updates, so requests never add up to more than
was sold and paid; a refused or withdrawn one gives them back. A refund only asked while
nothing has shipped is approved at once (the goods never left: their stock goes back); any
other request waits for the merchant, and is approved by itself once its review is due.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from commerce import clock, outbox
from commerce.aftersales import queries
from commerce.aftersales.errors import AfterSaleError
from commerce.aftersales.events import AfterSaleStatusChanged
from commerce.aftersales.lifecycle import move, record
from commerce.aftersales.models import AfterSale, AfterSaleLine
from commerce.aftersales.queries import AfterSaleView
from commerce.aftersales.states import AfterSaleEventType, AfterSaleKind, AfterSaleStatus
from commerce.aftersales.steps import SYSTEM, approve_in, give_back
from commerce.config import Settings
from commerce.errors import CommerceError
from commerce.orders import queries as orders
from commerce.orders import services as order_services
from commerce.orders.errors import OrderError
from commerce.orders.queries import LineFacts, OrderFacts
from commerce.orders.states import OrderStatus
from commerce.shipping.queries import CARRIERS, carrier_name
from commerce.transactions import unit_of_work, write_transaction
from commerce.users.services import Shopper

REASONS: dict[AfterSaleKind, list[str]] = {
    AfterSaleKind.REFUND_ONLY: [
        "不想要了",
        "拍错/多拍",
        "未按约定时间发货",
        "少件/漏发",
        "商品质量问题",
        "协商一致退款",
        "其他",
    ],
    AfterSaleKind.RETURN_REFUND: [
        "七天无理由退货",
        "商品质量问题",
        "商品与描述不符",
        "收到商品破损",
        "发错货",
        "其他",
    ],
}
REASON_MAX, DESCRIPTION_MAX, PHOTOS_MAX = 80, 500, 9
_TRACKING_NO = re.compile(r"^[A-Za-z0-9-]{4,64}$")
_PHOTO = re.compile(r"^(https?://|/)\S{1,490}$")


@dataclass(frozen=True)
class LineAsk:
    order_line_id: int
    quantity: int
    amount: int | None = None  # fen; None: the line's paid share for that quantity


@dataclass(frozen=True)
class LineOption:
    order_line_id: int
    sku_id: int
    title: str
    image: str
    specs: dict[str, str]
    quantity: int
    refundable_quantity: int
    refundable_amount: int  # fen: what of the line's paid share is not refunded or asked yet


@dataclass(frozen=True)
class AfterSaleOptions:
    order_id: int
    order_no: str
    lines: list[LineOption]
    # The order's shipping fee, returned with a request that takes everything left while
    # nothing has shipped; 0 after shipment.
    shipping_refundable: int
    kinds: list[AfterSaleKind]  # empty when nothing is left to ask for
    reasons: dict[AfterSaleKind, list[str]]
    window_ends_at: datetime | None  # None: open until the order completes (then the window runs)
    return_address: str


@dataclass(frozen=True)
class _Plan:
    lines: list[tuple[LineFacts, int, int]]  # (line, quantity, amount)
    shipping_amount: int
    before_shipment: bool

    @property
    def amount(self) -> int:
        return sum(amount for _, _, amount in self.lines) + self.shipping_amount


async def aftersale_options(*, shopper: Shopper, order_id: int, settings: Settings) -> AfterSaleOptions:
    """What the shopper may ask for on their order now (refused when they may not at all)."""
    facts = await _own_order(shopper, order_id)
    window_ends_at = _window(facts, settings)
    lines = await orders.line_facts(order_id)
    left = any(line.units_left > 0 for line in lines)
    kinds = [] if not left else [AfterSaleKind.REFUND_ONLY]
    if left and facts.status is not OrderStatus.PAID:
        kinds.append(AfterSaleKind.RETURN_REFUND)
    return AfterSaleOptions(
        order_id=facts.id,
        order_no=facts.order_no,
        lines=[
            LineOption(
                order_line_id=line.id,
                sku_id=line.sku_id,
                title=line.title,
                image=line.image,
                specs=line.specs,
                quantity=line.quantity,
                refundable_quantity=line.units_left,
                refundable_amount=line.amount_left,
            )
            for line in lines
        ],
        shipping_refundable=_shipping_left(facts, lines),
        kinds=kinds,
        reasons={kind: list(REASONS[kind]) for kind in kinds},
        window_ends_at=window_ends_at,
        return_address=await queries.return_address(facts.merchant_id),
    )


async def request_aftersale(
    *,
    shopper: Shopper,
    order_id: int,
    kind: str,
    lines: list[LineAsk],
    reason: str,
    description: str = "",
    photos: Sequence[str] = (),
    settings: Settings,
) -> AfterSaleView:
    """Ask for some units of some lines back, for at most their remaining paid share."""
    facts = await _own_order(shopper, order_id)
    try:
        wanted = AfterSaleKind(kind)
    except ValueError:
        raise AfterSaleError.INVALID_KIND.error() from None
    reason, description, photos = _checked_words(reason, description, photos)
    _window(facts, settings)
    plan = _plan(facts, await orders.line_facts(order_id), wanted, lines)
    aftersale_id = await _request(
        shopper, facts, wanted, plan, reason=reason, description=description, photos=photos, settings=settings
    )
    return await queries.get_mine(shopper=shopper, aftersale_id=aftersale_id)


async def request_whole_refund(
    *, shopper: Shopper, order_id: int, reason: str, settings: Settings
) -> AfterSaleView:
    """A refund only of everything the order has left (and its shipping, while nothing shipped)."""
    facts = await _own_order(shopper, order_id)
    reason, _, _ = _checked_words(reason, "", ())
    _window(facts, settings)
    left = [line for line in await orders.line_facts(order_id) if line.units_left > 0]
    if not left:
        raise AfterSaleError.NOT_ALLOWED.error()
    asks = [LineAsk(line.id, line.units_left, line.amount_left) for line in left]
    plan = _plan(facts, await orders.line_facts(order_id), AfterSaleKind.REFUND_ONLY, asks)
    aftersale_id = await _request(
        shopper,
        facts,
        AfterSaleKind.REFUND_ONLY,
        plan,
        reason=reason,
        description="",
        photos=[],
        settings=settings,
    )
    return await queries.get_mine(shopper=shopper, aftersale_id=aftersale_id)


@unit_of_work
async def cancel_aftersale(*, shopper: Shopper, aftersale_id: int) -> AfterSaleView:
    """The shopper withdraws a request not approved yet, or a return not sent yet."""
    row = await _own(shopper, aftersale_id)
    if row.status not in (AfterSaleStatus.REQUESTED, AfterSaleStatus.AWAITING_RETURN):
        raise AfterSaleError.ALREADY_HANDLED.error()
    actor = f"shopper:{shopper.user_id}"
    async with write_transaction() as conn:
        event = await move(
            conn,
            row,
            row.status,
            AfterSaleStatus.CANCELLED,
            actor=actor,
            changes={"finished_at": clock.now()},
        )
        await give_back(conn, row, actor=actor, why="买家撤销售后申请")
    await outbox.deliver([event])
    return await queries.get_mine(shopper=shopper, aftersale_id=aftersale_id)


@unit_of_work
async def ship_return(
    *, shopper: Shopper, aftersale_id: int, carrier: str, tracking_no: str
) -> AfterSaleView:
    """The shopper sent the goods back: the carrier and tracking number the merchant follows."""
    row = await _own(shopper, aftersale_id)
    name, tracking_no = carrier_name(carrier or ""), (tracking_no or "").strip()
    if name is None or not _TRACKING_NO.match(tracking_no):
        raise AfterSaleError.INVALID_TRACKING.error(fields=[{"carriers": sorted(CARRIERS.values())}])
    shipment = {"carrier": name, "tracking_no": tracking_no}
    async with write_transaction() as conn:
        event = await move(
            conn,
            row,
            AfterSaleStatus.AWAITING_RETURN,
            AfterSaleStatus.RETURNING,
            actor=f"shopper:{shopper.user_id}",
            params=shipment,
            changes={"return_carrier": name, "return_tracking_no": tracking_no},
            type_=AfterSaleEventType.RETURN_SHIPPED,
        )
    await outbox.deliver([event])
    return await queries.get_mine(shopper=shopper, aftersale_id=aftersale_id)


@unit_of_work
async def _request(
    shopper: Shopper,
    facts: OrderFacts,
    kind: AfterSaleKind,
    plan: _Plan,
    *,
    reason: str,
    description: str,
    photos: list[str],
    settings: Settings,
) -> int:
    """One transaction: take the units and money, write the request, approve it at once when
    it is a refund only of goods that never left."""
    now = clock.now()
    actor = f"shopper:{shopper.user_id}"
    at_once = plan.before_shipment and kind is AfterSaleKind.REFUND_ONLY
    due = None if at_once else now + timedelta(hours=settings.aftersales_review_hours)
    try:
        async with write_transaction() as conn:
            if plan.before_shipment:
                # Held paid to the commit: the order does not ship while its goods are refunded
                # as never sent (a shipment racing in waits, then finds what is left to send).
                await order_services.hold_paid(conn, order_id=facts.id)
            row, events = await _write(
                conn, facts, kind, plan, shopper.user_id, actor, reason, description, photos, due
            )
            if at_once:
                events += await approve_in(conn, row, actor=SYSTEM, params={"why": "未发货，自动同意退款"})
    except CommerceError as exc:  # shipped (or closed) meanwhile: look again
        if exc.code != OrderError.INVALID_TRANSITION.code:
            raise
        raise AfterSaleError.ALREADY_HANDLED.error("订单状态已变化，请刷新后重新申请") from None
    await outbox.deliver(events)
    return row.id


async def _write(
    conn,
    facts: OrderFacts,
    kind: AfterSaleKind,
    plan: _Plan,
    user_id: int,
    actor: str,
    reason: str,
    description: str,
    photos: list[str],
    due: datetime | None,
) -> tuple[AfterSale, list[outbox.OutboxEvent]]:
    """Inside the request's transaction: take the units and money, write the request, its
    lines, its first timeline row and its event."""
    # The order's row first (as shipping does), then its lines.
    if not await order_services.take_refund(conn, order_id=facts.id, amount=plan.amount):
        raise AfterSaleError.EXCEEDS_LINE.error()
    for line, quantity, amount in plan.lines:
        if not await order_services.take_line_refund(
            conn, order_id=facts.id, order_line_id=line.id, quantity=quantity, amount=amount
        ):
            raise AfterSaleError.EXCEEDS_LINE.error()
    row = await AfterSale.create(
        aftersale_no=_fresh_number(),
        order_id=facts.id,
        user_id=user_id,
        merchant_id=facts.merchant_id,
        kind=kind,
        status=AfterSaleStatus.REQUESTED,
        reason=reason,
        description=description,
        photos=photos,
        amount=plan.amount,
        shipping_amount=plan.shipping_amount,
        before_shipment=plan.before_shipment,
        review_due_at=due,
        created_at=clock.now(),
        updated_at=clock.now(),
        using_db=conn,
    )
    await AfterSaleLine.bulk_create(
        [
            AfterSaleLine(
                aftersale_id=row.id,
                order_line_id=line.id,
                sku_id=line.sku_id,
                title=line.title,
                quantity=quantity,
                amount=amount,
            )
            for line, quantity, amount in plan.lines
        ],
        using_db=conn,
    )
    await record(
        conn,
        row.id,
        AfterSaleEventType.REQUESTED,
        actor,
        to=AfterSaleStatus.REQUESTED.value,
        params={"kind": kind.value, "amount": plan.amount, "reason": reason},
    )
    events = [
        await outbox.emit(
            AfterSaleStatusChanged(
                aftersale_id=row.id,
                order_id=facts.id,
                user_id=user_id,
                from_status="",
                to_status=AfterSaleStatus.REQUESTED,
            ),
            connection=conn,
        )
    ]
    return row, events


async def refund_whole_in(conn, *, facts: OrderFacts, reason: str, actor: str) -> list[outbox.OutboxEvent]:
    """Inside the caller's transaction: a refund only of everything the order has left (with
    its shipping, nothing having shipped), approved at once as goods never sent (their stock
    goes back): the system's refund of an order it cannot fulfil (a 拼团 group that failed).
    Its refund is retried and shown like any request's; the events are the caller's to deliver."""
    lines = await orders.line_facts(facts.id, conn)
    asks = [LineAsk(line.id, line.units_left, line.amount_left) for line in lines if line.units_left > 0]
    if not asks:
        return []
    plan = _plan(replace(facts, status=OrderStatus.PAID), lines, AfterSaleKind.REFUND_ONLY, asks)
    row, events = await _write(
        conn, facts, AfterSaleKind.REFUND_ONLY, plan, facts.user_id, actor, reason, "", [], None
    )
    return events + await approve_in(conn, row, actor=SYSTEM, params={"why": reason})


def _plan(facts: OrderFacts, lines: list[LineFacts], kind: AfterSaleKind, asks: list[LineAsk]) -> _Plan:
    """Check the asked lines against what each has left; the default amount for q units is
    the line's paid share for q of its remaining units (the last unit takes the rest)."""
    before_shipment = facts.status is OrderStatus.PAID
    if kind is AfterSaleKind.RETURN_REFUND and before_shipment:
        raise AfterSaleError.RETURN_BEFORE_SHIPMENT.error()
    by_id = {line.id: line for line in lines}
    if not asks or len({ask.order_line_id for ask in asks}) != len(asks):
        raise AfterSaleError.INVALID_LINES.error()
    planned: list[tuple[LineFacts, int, int]] = []
    for ask in asks:
        line = by_id.get(ask.order_line_id)
        if line is None or type(ask.quantity) is not int or ask.quantity < 1:
            raise AfterSaleError.INVALID_LINES.error()
        if ask.amount is not None and (type(ask.amount) is not int or ask.amount < 0):
            raise AfterSaleError.INVALID_LINES.error()
        if ask.quantity > line.units_left:
            raise AfterSaleError.EXCEEDS_LINE.error()
        amount = share(line, ask.quantity) if ask.amount is None else ask.amount
        if amount > line.amount_left:
            raise AfterSaleError.EXCEEDS_LINE.error()
        planned.append((line, ask.quantity, amount))
    asked = {line.id: quantity for line, quantity, _ in planned}
    takes_all = all(asked.get(line.id, 0) == line.units_left for line in lines)
    shipping = _shipping_left(facts, lines) if takes_all else 0
    plan = _Plan(planned, shipping, before_shipment)
    if plan.amount <= 0:
        raise AfterSaleError.INVALID_LINES.error()
    return plan


def share(line: LineFacts, quantity: int) -> int:
    """The paid share of `quantity` of the line's remaining units: proportional, rounded down,
    so that the last unit takes the rest (the parts add up to what was paid)."""
    if quantity >= line.units_left:
        return line.amount_left
    return line.amount_left * quantity // line.units_left


def _shipping_left(facts: OrderFacts, lines: list[LineFacts]) -> int:
    """The order's shipping fee not returned yet, while nothing has shipped: what the order
    counts as refunded beyond its lines' refunds is shipping."""
    if facts.status is not OrderStatus.PAID:
        return 0
    returned = facts.refunded - sum(line.refund_amount for line in lines)
    return max(0, min(facts.shipping_fee - returned, facts.payable - facts.refunded))


def _window(facts: OrderFacts, settings: Settings) -> datetime | None:
    """Refuse an order that may not have after-sales now; when its window ends, if it runs."""
    if facts.status in (OrderStatus.PAID, OrderStatus.SHIPPED):
        return None
    if facts.status is OrderStatus.GROUPING:
        raise AfterSaleError.WAITING_FOR_GROUP.error()
    if facts.status is OrderStatus.COMPLETED and facts.completed_at is not None:
        ends = facts.completed_at + timedelta(days=settings.aftersales_window_days)
        if clock.now() >= ends:
            raise AfterSaleError.WINDOW_PASSED.error()
        return ends
    raise AfterSaleError.NOT_ALLOWED.error()


def _checked_words(reason: str, description: str, photos: Sequence[str]) -> tuple[str, str, list[str]]:
    reason, description = (reason or "").strip(), (description or "").strip()
    if not 1 <= len(reason) <= REASON_MAX:
        raise AfterSaleError.INVALID_REASON.error()
    if len(description) > DESCRIPTION_MAX:
        raise AfterSaleError.INVALID_DESCRIPTION.error()
    photos = list(photos or [])
    if len(photos) > PHOTOS_MAX:
        raise AfterSaleError.TOO_MANY_PHOTOS.error()
    if any(not isinstance(url, str) or not _PHOTO.match(url) for url in photos):
        raise AfterSaleError.INVALID_PHOTO.error()
    return reason, description, photos


async def _own_order(shopper: Shopper, order_id: int) -> OrderFacts:
    """The shopper's own order (anyone else's is not found)."""
    facts = await orders.order_facts(order_id)
    if facts is None or facts.user_id != shopper.user_id:
        raise OrderError.NOT_FOUND.error()
    return facts


async def _own(shopper: Shopper, aftersale_id: int) -> AfterSale:
    row = await AfterSale.get_or_none(id=aftersale_id, user_id=shopper.user_id)
    if row is None:
        raise AfterSaleError.NOT_FOUND.error()
    return row


def _fresh_number() -> str:
    """ "AS", Shanghai date and time, eight random digits (the unique index refuses a clash)."""
    stamp = clock.to_shanghai(clock.now()).strftime("%y%m%d%H%M%S")
    return f"AS{stamp}{secrets.randbelow(10**8):08d}"
