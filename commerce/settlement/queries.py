"""Statements as finance and merchants read them: lists, one statement with its orders, and
what issuing needs (orders settled before, amounts to carry)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from commerce.merchants import services as merchants
from commerce.orders import queries as orders
from commerce.settlement.errors import SettlementError
from commerce.settlement.figures import Figures, Item, figures_of
from commerce.settlement.models import Statement, StatementEvent, StatementItem
from commerce.settlement.states import SettlementPeriod, StatementStatus

PAGE_SIZE = 50


@dataclass(frozen=True)
class StatementSummary:
    id: int
    number: str  # JS-{merchant}-{first day}, as people quote it
    merchant_id: int
    merchant_name: str
    period: SettlementPeriod
    period_start: date
    period_end: date
    status: StatementStatus
    sales: int
    refunds: int
    commission: int
    fees: int
    adjustments: int
    carried_in: int
    owed: int
    item_count: int
    issued_at: datetime
    approved_by: str
    approved_at: datetime | None
    paid_by: str
    paid_at: datetime | None
    paid_on: date | None
    bank_reference: str
    carried_into: int | None


@dataclass(frozen=True)
class OrderLine:
    """One order's part of a statement (None: postings of no order, such as a credit)."""

    order_id: int | None
    order_no: str
    figures: Figures
    is_adjustment: bool  # settled in an earlier statement: later refunds
    entries: list[str]  # the books' entry keys it came from


@dataclass(frozen=True)
class StatementEventView:
    type: str
    from_status: str
    to_status: str
    actor: str
    params: dict
    at: datetime


@dataclass(frozen=True)
class StatementDetail:
    statement: StatementSummary
    orders: list[OrderLine]
    events: list[StatementEventView]


@dataclass(frozen=True)
class StatementPage:
    items: list[StatementSummary]
    total: int
    page: int
    page_size: int


def statement_no(merchant_id: int, period_start: date) -> str:
    return f"JS-{merchant_id}-{period_start:%Y%m%d}"


async def scoped(statement_id: int, merchant_id: int | None) -> Statement:
    """The statement, if staff of this merchant (None: the platform) may see it; another
    merchant's is not found."""
    query = Statement.filter(id=statement_id)
    if merchant_id is not None:
        query = query.filter(merchant_id=merchant_id)
    row = await query.first()
    if row is None:
        raise SettlementError.NOT_FOUND.error()
    return row


async def list_statements(
    *,
    merchant_id: int | None,
    status: StatementStatus | None = None,
    page: int = 1,
) -> StatementPage:
    """Newest period first; a merchant's people pass their merchant (finance None: all, or
    one merchant's when it filters)."""
    query = Statement.all()
    if merchant_id is not None:
        query = query.filter(merchant_id=merchant_id)
    if status is not None:
        query = query.filter(status=status)
    page = max(1, min(page, 10_000))
    total = await query.count()
    rows = (
        await query.order_by("-period_start", "merchant_id").offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    )
    return StatementPage(await _summaries(rows), total, page, PAGE_SIZE)


async def get_statement(*, statement_id: int, merchant_id: int | None) -> StatementDetail:
    row = await scoped(statement_id, merchant_id)
    items = await StatementItem.filter(statement_id=row.id).order_by("occurred_at", "id")
    numbers = await orders.order_numbers({i.order_id for i in items if i.order_id is not None})
    grouped: dict[int | None, list[StatementItem]] = {}
    for item in items:
        grouped.setdefault(item.order_id, []).append(item)
    lines = [
        OrderLine(
            order_id=order_id,
            order_no=numbers.get(order_id, "") if order_id is not None else "",
            figures=figures_of(_item(i) for i in rows),
            is_adjustment=all(i.is_adjustment for i in rows),
            entries=[i.entry_key for i in rows],
        )
        for order_id, rows in grouped.items()
    ]
    events = await StatementEvent.filter(statement_id=row.id).order_by("id")
    return StatementDetail(
        statement=(await _summaries([row]))[0],
        orders=lines,
        events=[
            StatementEventView(
                e.type.value, e.from_status, e.to_status, e.actor, dict(e.params), e.created_at
            )
            for e in events
        ],
    )


async def orders_settled_before(merchant_id: int, order_ids: set[int]) -> set[int]:
    """Those of these orders that an issued statement of the merchant settled already."""
    if not order_ids:
        return set()
    return set(
        await StatementItem.filter(merchant_id=merchant_id, order_id__in=sorted(order_ids)).values_list(
            "order_id", flat=True
        )
    )


async def carried_forward(merchant_id: int, *, before: date) -> list[tuple[int, int]]:
    """(id, owed) of the merchant's earlier statements that owe nothing (<= 0) and are not
    paid: the next statement takes their amounts over."""
    return list(
        await Statement.filter(
            merchant_id=merchant_id,
            period_start__lt=before,
            owed__lte=0,
            status__in=[StatementStatus.ISSUED, StatementStatus.APPROVED],
        )
        .order_by("id")
        .values_list("id", "owed")
    )


def _item(row: StatementItem) -> Item:
    return Item(
        posting_id=row.posting_id,
        entry_id=row.entry_id,
        entry_kind=row.entry_kind,
        entry_key=row.entry_key,
        order_id=row.order_id,
        occurred_at=row.occurred_at,
        payable=row.payable,
        sales=row.sales,
        refunds=row.refunds,
        commission=row.commission,
        fees=row.fees,
        is_adjustment=row.is_adjustment,
    )


async def _summaries(rows: list[Statement]) -> list[StatementSummary]:
    names = {m.id: m.name for m in await merchants.list_merchants()} if rows else {}
    return [
        StatementSummary(
            id=r.id,
            number=statement_no(r.merchant_id, r.period_start),
            merchant_id=r.merchant_id,
            merchant_name=names.get(r.merchant_id, f"商家 {r.merchant_id}"),
            period=SettlementPeriod(r.period),
            period_start=r.period_start,
            period_end=r.period_end,
            status=StatementStatus(r.status),
            sales=r.sales,
            refunds=r.refunds,
            commission=r.commission,
            fees=r.fees,
            adjustments=r.adjustments,
            carried_in=r.carried_in,
            owed=r.owed,
            item_count=r.item_count,
            issued_at=r.issued_at,
            approved_by=r.approved_by,
            approved_at=r.approved_at,
            paid_by=r.paid_by,
            paid_at=r.paid_at,
            paid_on=r.paid_on,
            bank_reference=r.bank_reference,
            carried_into=r.carried_into,
        )
        for r in rows
    ]
