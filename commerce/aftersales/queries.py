"""After-sales requests as their shopper and the merchant's staff see them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from commerce.aftersales.errors import AfterSaleError
from commerce.aftersales.models import AfterSale, AfterSaleEvent, AfterSaleLine
from commerce.aftersales.states import OPEN, AfterSaleKind, AfterSaleStatus
from commerce.errors import CommerceError
from commerce.merchants import services as merchants
from commerce.orders import queries as orders
from commerce.payments import queries as payments
from commerce.payments.errors import RefundError
from commerce.users.services import Shopper

KIND_LABELS = {AfterSaleKind.REFUND_ONLY: "仅退款", AfterSaleKind.RETURN_REFUND: "退货退款"}
STATUS_LABELS = {
    AfterSaleStatus.REQUESTED: "待商家处理",
    AfterSaleStatus.AWAITING_RETURN: "待买家退货",
    AfterSaleStatus.RETURNING: "退货中，待商家收货",
    AfterSaleStatus.REFUNDING: "退款中",
    AfterSaleStatus.REFUNDED: "已退款",
    AfterSaleStatus.REFUSED: "商家已拒绝",
    AfterSaleStatus.CANCELLED: "已撤销",
}
# What staff do about a refund WeChat Pay did not pay out, by its failure code.
_ADVICE = {
    "ABNORMAL": RefundError.ABNORMAL.message,
    "CLOSED": "微信支付已关闭该退款，款项未退出：请确认后重新提交退款",
}
_ADVICE_OTHERWISE = "微信支付未能退款：请查看原因（如商户余额不足），处理后重新提交退款"


@dataclass(frozen=True)
class AfterSaleLineView:
    order_line_id: int
    sku_id: int
    title: str
    quantity: int
    amount: int  # fen


@dataclass(frozen=True)
class RefundState:
    """The request's refund at WeChat Pay (its latest, when a failed one was submitted again)."""

    status: str  # commerce.payments.states.RefundStatus
    out_refund_no: str
    failure: str
    failure_code: str
    retryable: bool  # failed, not ABNORMAL, not submitted again yet: staff may retry it
    advice: str = ""  # for a failed one: what staff do (zh-CN)


@dataclass(frozen=True)
class TimelineEntry:
    type: str
    from_status: str
    to_status: str
    actor: str
    params: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class AfterSaleView:
    id: int
    aftersale_no: str
    order_id: int
    order_no: str
    user_id: int
    merchant_id: int
    kind: AfterSaleKind
    kind_label: str
    status: AfterSaleStatus
    status_label: str
    reason: str
    description: str
    photos: list[str]
    amount: int  # fen: the lines' amounts plus shipping_amount
    shipping_amount: int
    before_shipment: bool
    lines: list[AfterSaleLineView]
    return_carrier: str
    return_tracking_no: str
    return_address: str
    restocked: bool | None
    review_due_at: datetime | None
    refusal: str
    refund: RefundState | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    timeline: list[TimelineEntry] = field(default_factory=list)  # filled by the get_* functions


async def list_mine(
    *, shopper: Shopper, status: str | None = None, page: int = 1, page_size: int = 20
) -> list[AfterSaleView]:
    """The shopper's requests, newest first."""
    query = AfterSale.filter(user_id=shopper.user_id)
    if status:
        query = query.filter(status=_status(status))
    page, page_size = max(page, 1), min(max(page_size, 1), 100)
    rows = await query.order_by("-id").offset((page - 1) * page_size).limit(page_size)
    return await _views(rows)


async def get_mine(*, shopper: Shopper, aftersale_id: int) -> AfterSaleView:
    """The shopper's own request with its timeline; anyone else's is not found."""
    row = await AfterSale.get_or_none(id=aftersale_id, user_id=shopper.user_id)
    if row is None:
        raise AfterSaleError.NOT_FOUND.error()
    return await _with_timeline(row)


async def of_order(*, order_id: int) -> list[AfterSaleView]:
    """An order's requests, oldest first (the caller checked who may see the order)."""
    return await _views(await AfterSale.filter(order_id=order_id).order_by("id"))


async def staff_list(
    *,
    merchant_id: int | None,
    status: str | None = None,
    kind: str | None = None,
    order_no: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    page_size: int = 20,
) -> tuple[list[AfterSaleView], int]:
    """Requests for staff (a merchant's people: their merchant's), those waiting longest for a
    review first among the open, then newest first; and how many match."""
    query = AfterSale.all()
    if merchant_id is not None:
        query = query.filter(merchant_id=merchant_id)
    if status:
        query = query.filter(status=_status(status))
    if kind:
        try:
            query = query.filter(kind=AfterSaleKind(kind))
        except ValueError:
            raise AfterSaleError.INVALID_KIND.error() from None
    if order_no:
        query = query.filter(order_id=await orders.order_id_of_number(order_no.strip()) or 0)
    if since is not None:
        query = query.filter(created_at__gte=since)
    if until is not None:
        query = query.filter(created_at__lt=until)
    total = await query.count()
    page, page_size = max(page, 1), min(max(page_size, 1), 100)
    rows = await query.order_by("-id").offset((page - 1) * page_size).limit(page_size)
    return await _views(rows), total


async def staff_get(*, aftersale_id: int, merchant_id: int | None) -> AfterSaleView:
    """A request with its timeline; another merchant's is not found."""
    return await _with_timeline(await scoped(aftersale_id, merchant_id))


async def count_open(*, merchant_id: int | None) -> dict[str, int]:
    """Open requests by status (every open status present, 0 when none), for the dashboard."""
    query = AfterSale.filter(status__in=OPEN)
    if merchant_id is not None:
        query = query.filter(merchant_id=merchant_id)
    counts = {status.value: 0 for status in OPEN}
    for status in await query.values_list("status", flat=True):
        counts[AfterSaleStatus(status).value] += 1
    return counts


async def orders_with_open_requests(order_ids: list[int] | None = None) -> list[int]:
    """The orders (of these, or any) with a request not finished yet."""
    query = AfterSale.filter(status__in=OPEN)
    if order_ids is not None:
        query = query.filter(order_id__in=order_ids or [0])
    return sorted(set(await query.values_list("order_id", flat=True)))


async def scoped(aftersale_id: int, merchant_id: int | None) -> AfterSale:
    """The request, if staff of this merchant (None: the platform) may handle it."""
    query = AfterSale.filter(id=aftersale_id)
    if merchant_id is not None:
        query = query.filter(merchant_id=merchant_id)
    row = await query.first()
    if row is None:
        raise AfterSaleError.NOT_FOUND.error()
    return row


def _status(status: str) -> AfterSaleStatus:
    try:
        return AfterSaleStatus(status)
    except ValueError:
        raise AfterSaleError.NOT_FOUND.error() from None


async def _with_timeline(row: AfterSale) -> AfterSaleView:
    view = (await _views([row]))[0]
    events = await AfterSaleEvent.filter(aftersale_id=row.id).order_by("id")
    timeline = [
        TimelineEntry(e.type.value, e.from_status, e.to_status, e.actor, dict(e.params), e.created_at)
        for e in events
    ]
    return replace(view, timeline=timeline)


async def _views(rows: list[AfterSale]) -> list[AfterSaleView]:
    ids = [r.id for r in rows]
    lines: dict[int, list[AfterSaleLineView]] = {}
    for line in await AfterSaleLine.filter(aftersale_id__in=ids or [0]).order_by("id"):
        lines.setdefault(line.aftersale_id, []).append(  # type: ignore[attr-defined]
            AfterSaleLineView(line.order_line_id, line.sku_id, line.title, line.quantity, line.amount)
        )
    numbers = await orders.order_numbers({r.order_id for r in rows})
    refunds = await payments.aftersale_refunds(ids)
    addresses = {m: await return_address(m) for m in {r.merchant_id for r in rows}}
    return [
        AfterSaleView(
            id=r.id,
            aftersale_no=r.aftersale_no,
            order_id=r.order_id,
            order_no=numbers.get(r.order_id, ""),
            user_id=r.user_id,
            merchant_id=r.merchant_id,
            kind=AfterSaleKind(r.kind),
            kind_label=KIND_LABELS[AfterSaleKind(r.kind)],
            status=AfterSaleStatus(r.status),
            status_label=STATUS_LABELS[AfterSaleStatus(r.status)],
            reason=r.reason,
            description=r.description,
            photos=list(r.photos or []),
            amount=r.amount,
            shipping_amount=r.shipping_amount,
            before_shipment=r.before_shipment,
            lines=lines.get(r.id, []),
            return_carrier=r.return_carrier,
            return_tracking_no=r.return_tracking_no,
            return_address=addresses[r.merchant_id],
            restocked=r.restocked,
            review_due_at=r.review_due_at,
            refusal=r.refusal,
            refund=_refund_state(refunds.get(r.id)),
            created_at=r.created_at,
            updated_at=r.updated_at,
            finished_at=r.finished_at,
        )
        for r in rows
    ]


def _refund_state(refund: payments.RefundView | None) -> RefundState | None:
    if refund is None:
        return None
    failed = refund.status.value == "failed"
    return RefundState(
        status=refund.status.value,
        out_refund_no=refund.out_refund_no,
        failure=refund.failure,
        failure_code=refund.failure_code,
        retryable=failed and not refund.retried and refund.failure_code != "ABNORMAL",
        advice=_ADVICE.get(refund.failure_code, _ADVICE_OTHERWISE) if failed else "",
    )


async def return_address(merchant_id: int) -> str:
    """Where a return goes: the merchant, with its contact (zh-CN, for the shopper)."""
    try:
        merchant = await merchants.get_merchant(merchant_id=merchant_id)
    except CommerceError:  # no such merchant (any more): the shopper asks customer service
        return "请联系客服获取退货地址"
    contact = " ".join(part for part in (merchant.contact_name, merchant.contact_phone) if part)
    return f"{merchant.name}（{contact}）" if contact else merchant.name


@dataclass(frozen=True)
class RefundedParts:
    """What a request's refund pays back: fen per order line, and the shipping fee's part."""

    lines: dict[int, int]  # order line id -> amount
    shipping_amount: int


async def refunded_parts(aftersale_id: int) -> RefundedParts | None:
    """The request's amounts per order line (the books reverse commission line by line)."""
    request = await AfterSale.get_or_none(id=aftersale_id)
    if request is None:
        return None
    lines: dict[int, int] = {}
    for line_id, amount in await AfterSaleLine.filter(aftersale_id=aftersale_id).values_list(
        "order_line_id", "amount"
    ):
        lines[line_id] = lines.get(line_id, 0) + amount
    return RefundedParts(lines, request.shipping_amount)
