"""Reconciling a day with WeChat Pay's bills, and resolving what it finds.

    run = await reconcile_day(pay=core.pay, bill_date=date(2026, 12, 6))

downloads the day's trade bill and fund-flow bill (hash checked), compares them with our
payments paid and refunds succeeded that day (Asia/Shanghai), records each difference once
(a run again adds none twice), and posts the day's WeChat Pay fees to the ledger once. A day
already reconciled is not run again unless asked (`again=True`). The daily job runs yesterday
after the bills exist (10:00 the next day); a failure is recorded through commerce.jobs and the
day tried again by the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from commerce import clock
from commerce.audit import services as audit
from commerce.db import insert, model_row
from commerce.jobs import services as jobs
from commerce.ledger import services as ledger
from commerce.ledger.states import EntryKind
from commerce.lifecycle import Lifecycle
from commerce.payments import queries as payments
from commerce.reconciliation.compare import (
    MOVED,
    Found,
    compare,
    fees_of,
    seen_in_fund_flow,
    seen_in_trade_bill,
)
from commerce.reconciliation.errors import ReconciliationError
from commerce.reconciliation.models import ReconciliationDifference, ReconciliationRun
from commerce.reconciliation.states import (
    DIFFERENCE_TRANSITIONS,
    RUN_TRANSITIONS,
    DifferenceKind,
    DifferenceStatus,
    RunStatus,
    Source,
    Subject,
)
from commerce.staff.auth import Staff
from commerce.staff.permissions import Permission, require
from commerce.transactions import unit_of_work, write_transaction
from commerce.wechat.bills import Bill, BillMalformed, FundFlowRow, TradeBillRow
from commerce.wechat.pay import WeChatPayClient, WeChatPayRefused, WeChatPayUnavailable
from commerce.wechat.pay_bills import BillNotReady, BillTampered

log = logging.getLogger(__name__)

JOB = "reconcile_bills"  # the scheduled job's name in its failure records
# A run claimed this long ago and not finished died with its process: it may be claimed again.
STALE_RUN = timedelta(minutes=15)
# Days the daily job looks back for a day that failed (the bills are kept three months).
LOOK_BACK_DAYS = 30
# Days before yesterday the daily job reconciles if no run did (the scheduler was down).
CATCH_UP_DAYS = 7
# We note a payment or refund after WeChat Pay's success time; one noted within this of
# midnight may be in the previous day's bill.
MIDNIGHT_GRACE = timedelta(minutes=15)
MAX_NOTE = 500

RUN: Lifecycle[RunStatus] = Lifecycle(
    model=ReconciliationRun, transitions=RUN_TRANSITIONS, refusal=ReconciliationError.ALREADY_RUNNING.error
)
DIFFERENCE: Lifecycle[DifferenceStatus] = Lifecycle(
    model=ReconciliationDifference,
    transitions=DIFFERENCE_TRANSITIONS,
    refusal=ReconciliationError.ALREADY_RESOLVED.error,
)


@dataclass(frozen=True)
class RunResult:
    bill_date: date
    status: RunStatus
    found: int  # differences the run found (new or known before)
    added: int  # of which new
    fees: int | None
    redone: bool  # False: the day was reconciled before and not asked again


def day_bounds(bill_date: date) -> tuple[datetime, datetime]:
    """The day in Asia/Shanghai as UTC [start, end)."""
    start = datetime.combine(bill_date, time(0), clock.SHANGHAI).astimezone(UTC)
    return start, start + timedelta(days=1)


def yesterday() -> date:
    return clock.to_shanghai(clock.now()).date() - timedelta(days=1)


def checked_date(text: str, *, latest: date | None = None) -> date:
    """A bill date a person typed: yyyy-mm-dd, not later than `latest` (yesterday, Asia/Shanghai:
    the last day that has bills)."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ReconciliationError.INVALID_DATE.error() from None
    if len(text.strip()) != 10 or day > (latest or yesterday()) or day.year < 2000:
        raise ReconciliationError.INVALID_DATE.error()
    return day


async def reconcile_day(
    *, pay: WeChatPayClient | None, bill_date: date, actor: str = "system", again: bool = False
) -> RunResult:
    """Reconcile one day; a day done before is left as it is unless `again`. Raises the
    ReconciliationError saying why the bills could not be had (the run is marked failed)."""
    if pay is None:
        raise ReconciliationError.NOT_CONFIGURED.error()
    run = await _claim(bill_date, actor=actor, again=again)
    if run is None:
        done = await ReconciliationRun.get(bill_date=bill_date)
        return RunResult(bill_date, RunStatus(done.status), done.found, 0, done.fees, redone=False)
    try:
        trade = await pay.trade_bill(bill_date)
        flows = await pay.fund_flow_bill(bill_date)
    except (BillNotReady, BillTampered, BillMalformed, WeChatPayUnavailable, WeChatPayRefused) as exc:
        await _failed(run.id, exc)
        raise _error_for(exc) from exc
    try:
        return await _compare_and_record(pay, run.id, bill_date, trade, flows)
    except Exception as exc:  # the run must not stay RUNNING: failed, said why, tried again
        await _failed(run.id, exc)
        raise


async def _compare_and_record(
    pay: WeChatPayClient,
    run_id: int,
    bill_date: date,
    trade: Bill[TradeBillRow],
    flows: Bill[FundFlowRow],
) -> RunResult:
    start, end = day_bounds(bill_date)
    ours_that_day = {
        Subject.PAYMENT: await payments.payments_paid_between(start, end),
        Subject.REFUND: await payments.refunds_succeeded_between(start, end),
    }
    seen_trade, seen_flow = seen_in_trade_bill(trade.rows), seen_in_fund_flow(flows.rows)
    references = {
        s: [line.reference for line in [*seen_trade, *seen_flow] if line.subject is s] for s in Subject
    }
    ours_by_reference = {
        Subject.PAYMENT: await payments.payments_by_reference(references[Subject.PAYMENT]),
        Subject.REFUND: await payments.refunds_by_reference(references[Subject.REFUND]),
    }
    found = [
        *compare(seen_trade, ours_that_day, ours_by_reference, Source.TRADE),
        *compare(seen_flow, ours_that_day, ours_by_reference, Source.FUND_FLOW),
    ]
    found = await _without_yesterdays(pay, bill_date, found, ours_that_day)
    fees = fees_of(flows.rows)
    if fees:
        await ledger.record(
            key=f"wechat_fees:{bill_date.isoformat()}",
            kind=EntryKind.WECHAT_FEES,
            lines=[ledger.Line(ledger.PAYMENT_FEES, fees), ledger.Line(ledger.CLEARING, -fees)],
            memo=f"微信支付手续费 {bill_date.isoformat()}（资金账单）",
            detail={"bill_date": bill_date.isoformat(), "fund_rows": len(flows.rows)},
            occurred_at=end - timedelta(seconds=1),
        )
    added, distinct = await _finish(run_id, bill_date, found, len(trade.rows), len(flows.rows), fees)
    log.info("reconciled %s: %d differences (%d new), fees %d fen", bill_date, distinct, added, fees)
    return RunResult(bill_date, RunStatus.DONE, distinct, added, fees, redone=True)


async def _without_yesterdays(
    pay: WeChatPayClient,
    bill_date: date,
    found: list[Found],
    ours_that_day: dict[Subject, list[payments.Movement]],
) -> list[Found]:
    """Leave out what we noted just after midnight and WeChat Pay the day before: we learn of
    a payment or refund after WeChat Pay's success time (its notification, or our asking), so
    one of the day's first minutes may sit in the previous day's bill. Only then is that bill
    read; when it cannot be, the difference stays for a person to look at."""
    start, _ = day_bounds(bill_date)
    early = {
        (subject, m.reference)
        for subject, movements in ours_that_day.items()
        for m in movements
        if m.at is not None and m.at < start + MIDNIGHT_GRACE
    }
    suspects = [
        f for f in found if f.kind is DifferenceKind.MISSING_AT_WECHAT and (f.subject, f.reference) in early
    ]
    if not suspects:
        return found
    try:
        previous = seen_in_trade_bill((await pay.trade_bill(bill_date - timedelta(days=1))).rows)
    except (BillNotReady, BillTampered, BillMalformed, WeChatPayUnavailable, WeChatPayRefused):
        log.warning("reconciling %s: the previous day's bill could not be read", bill_date)
        return found
    there = {(line.subject, line.reference) for line in previous if line.state in MOVED}
    return [f for f in found if f not in suspects or (f.subject, f.reference) not in there]


async def reconcile_due(*, pay: WeChatPayClient | None, ready_hour: int) -> int:
    """The daily job: yesterday once its bills exist (after `ready_hour` Asia/Shanghai), the days
    before it that were never reconciled (a scheduler that was down), and any earlier day whose
    run failed; each on its own (a failure is recorded and tried again by a later run). How many
    days it reconciled."""
    if pay is None:
        return 0
    now = clock.to_shanghai(clock.now())
    latest = yesterday() if now.hour >= ready_hour else yesterday() - timedelta(days=1)
    recent = {latest - timedelta(days=n) for n in range(CATCH_UP_DAYS)}
    done = await ReconciliationRun.filter(bill_date__in=list(recent), status=RunStatus.DONE).values_list(
        "bill_date", flat=True
    )
    failed = await ReconciliationRun.filter(
        status=RunStatus.FAILED, bill_date__gte=now.date() - timedelta(days=LOOK_BACK_DAYS)
    ).values_list("bill_date", flat=True)
    days = (recent - set(done)) | set(failed)
    put_off = set(await jobs.put_off(job=JOB, item_kind="bill_date"))
    due = sorted(d for d in days if _item_id(d) not in put_off)

    async def handle(day: date) -> bool:
        return (await reconcile_day(pay=pay, bill_date=day)).redone

    return await jobs.each_item(job=JOB, item_kind="bill_date", items=due, item_id=_item_id, handle=handle)


def _item_id(day: date) -> int:
    return int(day.strftime("%Y%m%d"))


async def rerun(*, pay: WeChatPayClient | None, bill_date: date, staff: Staff) -> RunResult:
    """A finance person runs a day again (new differences are added; known ones stay)."""
    require(staff, Permission.FINANCE)
    if bill_date > yesterday():
        raise ReconciliationError.INVALID_DATE.error()
    actor = f"staff:{staff.id}"
    result = await reconcile_day(pay=pay, bill_date=bill_date, actor=actor, again=True)
    await audit.record(
        actor=actor,
        action="reconciliation.run",
        object_type="reconciliation",
        object_id=bill_date.isoformat(),
        summary=f"重新对账 {bill_date.isoformat()}：差异 {result.found} 条，新增 {result.added} 条",
    )
    return result


@unit_of_work
async def resolve(*, difference_id: int, staff: Staff, note: str) -> None:
    """A finance person says how a difference was settled; recorded with who and when."""
    require(staff, Permission.FINANCE)
    note = note.strip()
    if not 1 <= len(note) <= MAX_NOTE:
        raise ReconciliationError.INVALID_NOTE.error()
    actor = f"staff:{staff.id}"
    async with write_transaction() as conn:
        row = await ReconciliationDifference.get_or_none(id=difference_id).using_db(conn)
        if row is None:
            raise ReconciliationError.DIFFERENCE_NOT_FOUND.error()
        await DIFFERENCE.move(
            conn,
            row.id,
            DifferenceStatus.OPEN,
            DifferenceStatus.RESOLVED,
            actor=actor,
            changes={"resolution": note, "resolved_by": actor, "resolved_at": clock.now()},
        )
        await audit.record(
            actor=actor,
            action="reconciliation.resolve",
            object_type="reconciliation_difference",
            object_id=row.id,
            summary=f"{row.bill_date.isoformat()} {row.reference}：{note}"[:200],
            before={"status": DifferenceStatus.OPEN.value},
            after={"status": DifferenceStatus.RESOLVED.value, "note": note},
            connection=conn,
        )


# -- the run's row ------------------------------------------------------------------------------


@unit_of_work
async def _claim(bill_date: date, *, actor: str, again: bool) -> ReconciliationRun | None:
    """The day's run, now RUNNING and ours; None when it is done and not asked again. Raises
    ALREADY_RUNNING when another process is running it."""
    now = clock.now()
    async with write_transaction() as conn:
        row = await ReconciliationRun.get_or_none(bill_date=bill_date).using_db(conn)
        if row is None:
            try:
                await insert("reconciliation_run", _run_row(bill_date, actor, now), connection=conn)
            except IntegrityError:
                raise ReconciliationError.ALREADY_RUNNING.error() from None
            return await ReconciliationRun.get(bill_date=bill_date).using_db(conn)
        status = RunStatus(row.status)
        if status is RunStatus.DONE and not again:
            return None
        if status is RunStatus.RUNNING and row.updated_at > now - STALE_RUN:
            raise ReconciliationError.ALREADY_RUNNING.error()
        # From what we read: if another process moved it meanwhile, the update finds no row.
        await RUN.move(
            conn,
            row.id,
            status,
            RunStatus.RUNNING,
            actor=actor,
            where=Q(updated_at=row.updated_at),
            changes={"requested_by": actor[:64], "started_at": now, "attempts": row.attempts + 1},
        )
        return row


def _run_row(bill_date: date, actor: str, now: datetime) -> dict[str, Any]:
    values = {"bill_date": bill_date, "attempts": 1, "requested_by": actor[:64], "started_at": now}
    return model_row(ReconciliationRun, {**values, "created_at": now, "updated_at": now})


@unit_of_work
async def _failed(run_id: int, exc: Exception) -> None:
    async with write_transaction() as conn:
        await RUN.try_move(
            conn,
            run_id,
            RunStatus.RUNNING,
            RunStatus.FAILED,
            actor="system",
            changes={"error": f"{type(exc).__name__}: {exc}"[:300], "finished_at": clock.now()},
        )


def _error_for(exc: Exception) -> Exception:
    if isinstance(exc, BillNotReady):
        return ReconciliationError.BILL_NOT_READY.error()
    if isinstance(exc, BillTampered):
        return ReconciliationError.BILL_TAMPERED.error()
    if isinstance(exc, BillMalformed):
        return ReconciliationError.BILL_UNREADABLE.error()
    return ReconciliationError.WECHAT_PAY_UNAVAILABLE.error()


@unit_of_work
async def _finish(
    run_id: int, bill_date: date, found: list[Found], trade_rows: int, fund_rows: int, fees: int
) -> tuple[int, int]:
    """Record the differences not known yet and close the run: (how many new, how many found)."""
    distinct: dict[tuple[str, str], Found] = {}
    for item in found:  # the trade bill's first: it also knows states
        distinct.setdefault((item.kind.value, item.reference), item)
    now = clock.now()
    async with write_transaction() as conn:
        known = {
            (kind, reference)
            for kind, reference in await ReconciliationDifference.filter(bill_date=bill_date)
            .using_db(conn)
            .values_list("kind", "reference")
        }
        new = [item for key, item in distinct.items() if (str(key[0]), key[1]) not in known]
        for item in new:
            await insert(
                "reconciliation_difference",
                model_row(
                    ReconciliationDifference,
                    {
                        "run_id": run_id,
                        "bill_date": bill_date,
                        "kind": item.kind,
                        "subject": item.subject,
                        "reference": item.reference[:64],
                        "source": item.source,
                        "ours_amount": item.ours_amount,
                        "theirs_amount": item.theirs_amount,
                        "ours_state": item.ours_state[:32],
                        "theirs_state": item.theirs_state[:32],
                        "created_at": now,
                        "updated_at": now,
                    },
                ),
                connection=conn,
            )
        await RUN.move(
            conn,
            run_id,
            RunStatus.RUNNING,
            RunStatus.DONE,
            actor="system",
            changes={
                "trade_rows": trade_rows,
                "fund_rows": fund_rows,
                "found": len(distinct),
                "fees": fees,
                "error": "",
                "finished_at": now,
            },
        )
    return len(new), len(distinct)
