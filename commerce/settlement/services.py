"""Issuing merchants' settlement statements after each period, and finance approving them and
marking them paid.

Issuing is idempotent: one statement per merchant and period (a unique key), one item per
posting (a unique key), so two schedulers or a rerun issue it once. Approving and paying are
conditional moves (two finance people at once: one wins, the other is told it was handled);
paying posts SETTLEMENT_PAID to the books in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery

from commerce import clock
from commerce.aftersales import queries as aftersales
from commerce.audit import services as audit
from commerce.db import insert, insert_many, model_row
from commerce.jobs import services as jobs
from commerce.ledger import services as ledger
from commerce.ledger import statement_reads as books
from commerce.ledger.states import EntryKind
from commerce.orders import queries as orders
from commerce.settlement import queries
from commerce.settlement.errors import SettlementError
from commerce.settlement.figures import Item, figures_of, items_of, settleable
from commerce.settlement.lifecycle import STATEMENT, record
from commerce.settlement.models import Statement, StatementItem
from commerce.settlement.periods import Period, last_ended
from commerce.settlement.states import SettlementPeriod, StatementEventType, StatementStatus
from commerce.staff.auth import Staff
from commerce.transactions import unit_of_work, write_transaction

log = logging.getLogger(__name__)
ISSUE_STATEMENTS = "issue_statements"  # the scheduled job's name in its failure records
SYSTEM = "system:settlement"
REFERENCE_MAX = 64
# Ids per IN (...) read, and item rows per INSERT (MySQL takes at most 65,535 parameters).
BATCH = 1000
ITEM_ROWS = 500

T = TypeVar("T")


def _batches(values: list[T], *, size: int = BATCH) -> list[list[T]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


async def issue_statements(*, period: SettlementPeriod | str, window_days: int) -> list[int]:
    """Issue every merchant's statement for the latest ended period that has something due;
    the ids of those issued now (none for a merchant issued before or with nothing due)."""
    ended = last_ended(clock.now(), SettlementPeriod(period))
    issued: list[int] = []

    async def issue(merchant_id: int) -> bool:
        made = await issue_statement(
            merchant_id=merchant_id, period=ended, window=timedelta(days=window_days)
        )
        if made is not None:
            issued.append(made)
        return made is not None

    await jobs.each_item(
        job=ISSUE_STATEMENTS,
        item_kind="merchant",
        items=await books.merchants_with_payable(),
        item_id=int,
        handle=issue,
    )
    return issued


@unit_of_work
async def issue_statement(*, merchant_id: int, period: Period, window: timedelta) -> int | None:
    """The merchant's statement for `period`, issued now; None when it was issued before or
    nothing is due. Its items: the merchant's payable postings before the period's end in no
    earlier statement whose order is settleable by then, and every posting of an order
    settled in an earlier statement (an adjustment); the rest is carried."""
    if await Statement.filter(merchant_id=merchant_id, period_start=period.first_day).exists():
        return None
    settled_ids = Subquery(StatementItem.filter(merchant_id=merchant_id).values("posting_id"))
    postings = await books.unsettled_payable(merchant_id, before=period.ends_at, settled=settled_ids)
    order_ids = sorted({p.order_id for p in postings if p.order_id is not None})
    settled_orders: set[int] = set()
    facts: dict[int, orders.SettlementFacts] = {}
    still_open: set[int] = set()
    for batch in _batches(order_ids):  # a busy merchant's week: thousands of orders
        settled_orders |= await queries.orders_settled_before(merchant_id, set(batch))
        fresh = set(batch) - settled_orders
        facts |= await orders.settlement_facts(fresh)
        still_open |= set(await aftersales.orders_with_open_requests(sorted(fresh)) if fresh else [])
    due = [
        p
        for p in postings
        if p.order_id is None
        or p.order_id in settled_orders
        or settleable(facts.get(p.order_id), by=period.ends_at, window=window, open_orders=still_open)
    ]
    if not due:
        return None
    entry_postings = [
        posting
        for batch in _batches(sorted({p.entry_id for p in due}))
        for posting in await books.postings_of_entries(set(batch))
    ]
    items = items_of(due, entry_postings, settled_orders)
    carried = await queries.carried_forward(merchant_id, before=period.first_day)
    try:
        async with write_transaction() as conn:
            return await _issue_in(conn, merchant_id, period, items, carried)
    except IntegrityError:  # issued at the same moment by another run: that one stands
        if await Statement.filter(merchant_id=merchant_id, period_start=period.first_day).exists():
            return None
        raise


async def _issue_in(
    conn, merchant_id: int, period: Period, items: list[Item], carried: list[tuple[int, int]]
) -> int:
    figures = figures_of(items)
    carried_in = sum(owed for _, owed in carried)
    now = clock.now()
    statement_id = await insert(
        Statement._meta.db_table,
        model_row(
            Statement,
            {
                "merchant_id": merchant_id,
                "period": period.kind,
                "period_start": period.first_day,
                "period_end": period.last_day,
                "status": StatementStatus.ISSUED,
                "sales": figures.sales,
                "refunds": figures.refunds,
                "commission": figures.commission,
                "fees": figures.fees,
                "adjustments": figures.adjustments,
                "carried_in": carried_in,
                "owed": figures.payable + carried_in,
                "item_count": len(items),
                "issued_at": now,
                "updated_at": now,
            },
        ),
        connection=conn,
    )
    for batch in _batches(items, size=ITEM_ROWS):
        await insert_many(
            StatementItem._meta.db_table,
            [
                model_row(
                    StatementItem, {"statement_id": statement_id, "merchant_id": merchant_id, **vars(item)}
                )
                for item in batch
            ],
            connection=conn,
        )
    for earlier_id, owed in carried:
        await STATEMENT.move(
            conn,
            earlier_id,
            [StatementStatus.ISSUED, StatementStatus.APPROVED],
            StatementStatus.CARRIED,
            actor=SYSTEM,
            params={"into": statement_id, "owed": owed},
            changes={"carried_into": statement_id},
        )
    await record(
        conn,
        statement_id,
        StatementEventType.ISSUED,
        SYSTEM,
        to=StatementStatus.ISSUED.value,
        params={"items": len(items), "owed": figures.payable + carried_in, "carried_in": carried_in},
    )
    return statement_id


@unit_of_work
async def approve(*, statement_id: int, staff: Staff) -> None:
    """Finance agrees the figures: the transfer may go."""
    row = await queries.scoped(statement_id, staff.merchant_id)
    async with write_transaction() as conn:
        await STATEMENT.move(
            conn,
            row.id,
            StatementStatus.ISSUED,
            StatementStatus.APPROVED,
            actor=staff.actor,
            changes={"approved_by": staff.actor[:64], "approved_at": clock.now()},
        )
        await _audit(conn, staff, "statement.approve", row, StatementStatus.ISSUED, {"status": "approved"})


@unit_of_work
async def mark_paid(*, statement_id: int, staff: Staff, reference: str, paid_on: str) -> None:
    """The bank transfer went out (outside the shop): record its reference and date, and post
    SETTLEMENT_PAID (the merchant's payable cleared by what left the platform's money) in the
    same transaction. A statement that owes nothing cannot be paid: it is carried."""
    reference = _checked_reference(reference)
    day = _checked_paid_on(paid_on)
    row = await queries.scoped(statement_id, staff.merchant_id)
    if row.owed <= 0:
        raise SettlementError.NOTHING_OWED.error()
    lines = [
        ledger.Line(ledger.merchant_payable(row.merchant_id), row.owed),
        ledger.Line(ledger.CLEARING, -row.owed),
    ]
    await ledger.ensure_accounts(line.account for line in lines)
    params = {"reference": reference, "paid_on": day.isoformat(), "owed": row.owed}
    async with write_transaction() as conn:
        await STATEMENT.move(
            conn,
            row.id,
            StatementStatus.APPROVED,
            StatementStatus.PAID,
            actor=staff.actor,
            params=params,
            changes={
                "bank_reference": reference,
                "paid_on": day,
                "paid_at": clock.now(),
                "paid_by": staff.actor[:64],
            },
        )
        await ledger.post(
            conn,
            key=f"statement:{row.id}:paid",
            kind=EntryKind.SETTLEMENT_PAID,
            lines=lines,
            memo=f"结算单 {queries.statement_no(row.merchant_id, row.period_start)} 已付款（{reference}）",
            actor=staff.actor,
            detail=params,
        )
        await _audit(
            conn, staff, "statement.paid", row, StatementStatus.APPROVED, {"status": "paid", **params}
        )


def _checked_reference(reference: str) -> str:
    reference = reference.strip()
    if not reference or len(reference) > REFERENCE_MAX or not reference.isprintable():
        raise SettlementError.INVALID_REFERENCE.error()
    return reference


def _checked_paid_on(paid_on: str) -> date:
    try:
        day = date.fromisoformat(paid_on.strip())
    except ValueError:
        raise SettlementError.INVALID_PAID_ON.error() from None
    if day > clock.to_shanghai(clock.now()).date() or day.year < 2000:
        raise SettlementError.INVALID_PAID_ON.error()
    return day


async def _audit(conn, staff: Staff, action: str, row: Statement, frm: StatementStatus, after: dict) -> None:
    await audit.record(
        actor=staff.actor,
        action=action,
        object_type="statement",
        object_id=row.id,
        summary=f"结算单 {queries.statement_no(row.merchant_id, row.period_start)}",
        before={"status": frm.value},
        after=after,
        connection=conn,
    )
