"""Merchant settlement on a real database: a day of mixed orders and refunds for two merchants
(paid through the simulated WeChat Pay, refunded through after-sales, posted to the books by the
ledger's subscribers) settles to statements checked fen by fen against figures worked out by
hand; an order inside its after-sales window is carried; a later refund of a settled order is an
adjustment of the next statement; issued items stay frozen; issuing twice (or at once) issues
once; approving and paying happen once, and paying posts once to the books."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import pytest

from commerce import clock
from commerce.clock import SHANGHAI
from commerce.errors import CommerceError
from commerce.ledger.models import JournalEntry, Posting
from commerce.orders import services as orders
from commerce.settlement import queries, services
from commerce.settlement.errors import SettlementError
from commerce.settlement.models import Statement, StatementEvent, StatementItem
from commerce.settlement.periods import last_ended, period_of
from commerce.settlement.states import SettlementPeriod, StatementStatus
from commerce.staff.auth import Staff
from commerce.staff.states import StaffRole
from tests.builders import refused
from tests.concurrency import needs_real_database
from tests.statement_builders import (
    a_day,
    bought,
    payable_balance,
    post_refund,
    ship,
    two_merchants,
)

FINANCE = Staff(id=950, username="money-1", role=StaffRole.FINANCE, merchant_id=None)
FINANCE_2 = Staff(id=951, username="money-2", role=StaffRole.FINANCE, merchant_id=None)


async def _issue(at: datetime, settings) -> list[int]:
    with clock.frozen(at):
        return await services.issue_statements(period="daily", window_days=settings.aftersales_window_days)


def _figures(statement: Statement) -> tuple[int, ...]:
    s = statement
    return (s.sales, s.refunds, s.commission, s.fees, s.adjustments, s.carried_in, s.owed, s.item_count)


def _noon_in_shanghai(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(SHANGHAI).date(), time(12), tzinfo=SHANGHAI).astimezone(UTC)


async def _owed_by_the_books(statement_id: int) -> int:
    """What the statement's postings say, read from the books themselves."""
    posting_ids = await StatementItem.filter(statement_id=statement_id).values_list("posting_id", flat=True)
    return -sum(await Posting.filter(id__in=list(posting_ids)).values_list("amount", flat=True))


async def test_a_day_of_mixed_orders_and_refunds_settles_fen_by_fen(client, simulator, settings):
    # given a day of five orders of two merchants, two refunds, one order still in its window:
    # the books posted every payment and refund as the money moved
    day = await a_day(client, simulator, settings)
    keys = await JournalEntry.all().values_list("key", flat=True)
    assert sorted(k.split(":")[0] for k in keys) == ["payment"] * 5 + ["refund"] * 2
    # when statements are issued nine days later (daily periods)
    issued = await _issue(day.at + timedelta(days=9), settings)
    # then each merchant has one, with the figures worked out by hand
    assert len(issued) == 2
    mine = await Statement.get(merchant_id=day.a)
    theirs = await Statement.get(merchant_id=day.b)
    # 甲: sales 12800 + 8980; refunds 3990; commission 640 + 399 - 200; fees 77 + 54 - 24
    assert _figures(mine) == (21780, 3990, 839, 107, 0, 0, 16844, 3)
    # 乙: sales 17600 + 9800; refunds 9800; commission 880 + 440 - 440; fees 106 + 59 - 59
    assert _figures(theirs) == (27400, 9800, 880, 106, 0, 0, 16614, 3)
    assert (mine.status, mine.period_end - mine.period_start) == (StatementStatus.ISSUED, timedelta(0))
    # per order: what each sold, was refunded and charged, and what it adds to the amount owed
    detail = await queries.get_statement(statement_id=mine.id, merchant_id=day.a)
    per_order = {
        line.order_id: (
            line.figures.sales,
            line.figures.refunds,
            line.figures.commission,
            line.figures.fees,
            line.figures.payable,
        )
        for line in detail.orders
    }
    assert per_order == {day.tea: (12800, 0, 640, 77, 12083), day.cups: (8980, 3990, 199, 30, 4761)}
    detail_b = await queries.get_statement(statement_id=theirs.id, merchant_id=day.b)
    assert {line.order_id: line.figures.payable for line in detail_b.orders} == {
        day.beans: 16614,
        day.gone: 0,
    }
    # the order still inside its window is carried: in no statement
    assert not await StatementItem.filter(order_id=day.late).exists()
    # the statements equal the books: their postings, and what is left owed is the carried order
    for statement in (mine, theirs):
        assert await _owed_by_the_books(statement.id) == statement.owed
    assert await payable_balance(day.a) == 16844 + 12083
    assert await payable_balance(day.b) == 16614
    # and a merchant sees its own only
    with pytest.raises(CommerceError) as caught:
        await queries.get_statement(statement_id=theirs.id, merchant_id=day.a)
    assert refused(caught, SettlementError.NOT_FOUND)


async def test_the_carried_order_and_a_later_refund_of_a_settled_one_come_next(client, simulator, settings):
    # given the day's first statements issued, and 甲's paid
    day = await a_day(client, simulator, settings)
    await _issue(day.at + timedelta(days=9), settings)
    first = await Statement.get(merchant_id=day.a)
    await services.approve(statement_id=first.id, staff=FINANCE)
    with clock.frozen(day.at + timedelta(days=9, hours=1)):
        await services.mark_paid(
            statement_id=first.id, staff=FINANCE, reference="ICBC-0001", paid_on=_today()
        )
    # when the settled tea order is partly refunded (2800 of 12800: commission 140, fee 17 back)
    await post_refund(
        day.tea, 2800, commission=140, fee=17, key="refund:goodwill-tea", at=day.at + timedelta(days=10)
    )
    # and statements are issued again after the carried order's window passed
    issued = await _issue(day.at + timedelta(days=14), settings)
    # then only 甲 has a new one: the carried order settles, the refund is an adjustment
    assert len(issued) == 1
    second = await Statement.get(id=issued[0])
    assert second.merchant_id == day.a
    assert _figures(second) == (12800, 0, 640, 77, -2643, 0, 9440, 2)
    detail = await queries.get_statement(statement_id=second.id, merchant_id=None)
    lines = {
        line.order_id: (line.is_adjustment, line.figures.adjustments, line.figures.payable)
        for line in detail.orders
    }
    assert lines == {day.late: (False, 0, 12083), day.tea: (True, -2643, -2643)}
    # the books agree: what is owed to 甲 now is exactly the new statement
    assert await _owed_by_the_books(second.id) == 9440
    assert await payable_balance(day.a) == 9440
    # the first statement did not move
    assert _figures(await Statement.get(id=first.id)) == (21780, 3990, 839, 107, 0, 0, 16844, 3)


def _today() -> str:
    return clock.to_shanghai(clock.now()).date().isoformat()


async def test_issued_items_are_frozen_and_issuing_again_issues_nothing(client, simulator, settings):
    # given the day's statements issued
    day = await a_day(client, simulator, settings)
    # noon in Shanghai, so that "again within the hour" stays inside the same daily period
    # whatever the hour the test runs at
    later = _noon_in_shanghai(day.at + timedelta(days=9))
    assert len(await _issue(later, settings)) == 2
    items = await StatementItem.all().order_by("id").values_list("posting_id", "payable")
    figures = [_figures(s) for s in await Statement.all().order_by("id")]
    # when a settled order is refunded in the same period, and the job runs again (twice)
    await post_refund(day.beans, 8800, commission=440, fee=53, key="refund:late-beans", at=later)
    assert await _issue(later + timedelta(minutes=5), settings) == []
    assert await _issue(later + timedelta(hours=1), settings) == []
    # then nothing issued changed, and the refund waits for the next period
    assert await StatementItem.all().order_by("id").values_list("posting_id", "payable") == items
    assert [_figures(s) for s in await Statement.all().order_by("id")] == figures
    assert await Statement.all().count() == 2
    issued = await _issue(later + timedelta(days=1), settings)
    assert len(issued) == 1
    assert _figures(await Statement.get(id=issued[0])) == (0, 0, 0, 0, -8307, 0, -8307, 1)


async def test_nothing_due_issues_nothing(client, simulator, settings):
    # given orders paid but not received
    a, _ = await two_merchants()
    await bought(client, simulator, "alice", {"ST1-1": 1})
    # when the job runs after the period
    assert await _issue(clock.now() + timedelta(days=30), settings) == []
    # then no statement: the order is carried
    assert not await Statement.filter(merchant_id=a).exists()


async def test_approving_and_paying_happen_once_and_pay_posts_once(client, simulator, settings):
    # given 甲's issued statement
    day = await a_day(client, simulator, settings)
    await _issue(day.at + timedelta(days=9), settings)
    statement = await Statement.get(merchant_id=day.a)
    # an issued statement is not paid before it is approved
    with pytest.raises(CommerceError) as caught:
        await services.mark_paid(statement_id=statement.id, staff=FINANCE, reference="X1", paid_on=_today())
    assert refused(caught, SettlementError.ALREADY_HANDLED)
    # when finance approves it (a second approval is told it was handled)
    await services.approve(statement_id=statement.id, staff=FINANCE)
    with pytest.raises(CommerceError) as caught:
        await services.approve(statement_id=statement.id, staff=FINANCE_2)
    assert refused(caught, SettlementError.ALREADY_HANDLED)
    # and marks it paid: a bad reference or a date in the future is refused first
    for reference, paid_on, code in (
        ("", _today(), SettlementError.INVALID_REFERENCE),
        ("ICBC-1", "2099-01-01", SettlementError.INVALID_PAID_ON),
        ("ICBC-1", "昨天", SettlementError.INVALID_PAID_ON),
    ):
        with pytest.raises(CommerceError) as caught:
            await services.mark_paid(
                statement_id=statement.id, staff=FINANCE, reference=reference, paid_on=paid_on
            )
        assert refused(caught, code)
    await services.mark_paid(statement_id=statement.id, staff=FINANCE, reference=" ICBC-1 ", paid_on=_today())
    with pytest.raises(CommerceError) as caught:
        await services.mark_paid(
            statement_id=statement.id, staff=FINANCE_2, reference="ICBC-2", paid_on=_today()
        )
    assert refused(caught, SettlementError.ALREADY_HANDLED)
    # then it is paid once, with the reference and date, and the books paid 甲 once
    paid = await Statement.get(id=statement.id)
    assert (paid.status, paid.bank_reference, paid.paid_on.isoformat()) == (
        StatementStatus.PAID,
        "ICBC-1",
        _today(),
    )
    entries = await JournalEntry.filter(key=f"statement:{statement.id}:paid")
    assert [(e.kind.value, e.actor) for e in entries] == [("settlement_paid", "staff:950")]
    postings = await Posting.filter(entry_id=entries[0].id).values_list("account__code", "amount")
    assert sorted(postings) == sorted([(f"merchant_payable:{day.a}", 16844), ("clearing", -16844)])
    assert await payable_balance(day.a) == 12083  # the carried order only
    assert [e.to_status for e in await StatementEvent.filter(statement_id=statement.id).order_by("id")] == [
        "issued",
        "approved",
        "paid",
    ]


async def test_a_statement_the_merchant_owes_on_is_not_paid_but_carried(client, simulator, settings):
    # given 乙's statement paid, then a refund of its settled order: the next one owes -8307
    day = await a_day(client, simulator, settings)
    later = day.at + timedelta(days=9)
    await _issue(later, settings)
    await post_refund(day.beans, 8800, commission=440, fee=53, key="refund:late-beans", at=later)
    [owing] = await _issue(later + timedelta(days=1), settings)
    await services.approve(statement_id=owing, staff=FINANCE)
    # when finance tries to mark it paid
    with pytest.raises(CommerceError) as caught:
        await services.mark_paid(statement_id=owing, staff=FINANCE, reference="ICBC-9", paid_on=_today())
    # then it is refused in words finance reads, and nothing was posted
    assert refused(caught, SettlementError.NOTHING_OWED)
    assert "结转" in caught.value.message
    assert not await JournalEntry.filter(key=f"statement:{owing}:paid").exists()
    # and the next statement takes it over once the merchant sells again
    more = await bought(client, simulator, "dave", {"ST3-1": 2})
    await ship(more)
    with clock.frozen(later + timedelta(days=1)):
        await orders.complete_shipped_orders(after_days=0)
    issued = await _issue(later + timedelta(days=9), settings)
    taken = await Statement.get(id__in=issued, merchant_id=day.b)
    nxt = taken.id
    assert (taken.carried_in, taken.owed) == (-8307, 16614 - 8307)
    carried = await Statement.get(id=owing)
    assert (carried.status, carried.carried_into) == (StatementStatus.CARRIED, nxt)
    assert await payable_balance(day.b) == 16614 + 16614 - 8307  # the first is not paid yet


@needs_real_database
async def test_two_runners_issue_a_statement_once(client, simulator, settings):
    # given a day's orders, and two schedulers running the job at the same moment
    day = await a_day(client, simulator, settings)
    # when both issue
    with clock.frozen(day.at + timedelta(days=9)):
        results = await asyncio.gather(
            *(services.issue_statements(period="daily", window_days=7) for _ in range(4)),
            return_exceptions=True,
        )
    # then each merchant has one statement, each posting settles once
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(i for r in results for i in r) == sorted(await Statement.all().values_list("id", flat=True))
    assert await Statement.all().count() == 2
    assert await StatementItem.all().count() == 6


@needs_real_database
async def test_two_finance_people_pay_a_statement_once(client, simulator, settings):
    # given an approved statement
    day = await a_day(client, simulator, settings)
    await _issue(day.at + timedelta(days=9), settings)
    statement = await Statement.get(merchant_id=day.a)
    approvals = await asyncio.gather(
        *(services.approve(statement_id=statement.id, staff=s) for s in (FINANCE, FINANCE_2)),
        return_exceptions=True,
    )
    assert sum(1 for r in approvals if r is None) == 1
    # when two people mark it paid at once
    paid = await asyncio.gather(
        *(
            services.mark_paid(statement_id=statement.id, staff=s, reference=f"REF-{s.id}", paid_on=_today())
            for s in (FINANCE, FINANCE_2)
        ),
        return_exceptions=True,
    )
    # then one wins, the other is told; the books paid once
    assert sum(1 for r in paid if r is None) == 1
    assert [refused_code(r) for r in paid if r is not None] == ["statement_already_handled"]
    assert await JournalEntry.filter(kind="settlement_paid").count() == 1
    assert await payable_balance(day.a) == 12083


def refused_code(error: BaseException) -> str:
    return error.code if isinstance(error, CommerceError) else repr(error)


@pytest.mark.parametrize(
    ("now", "kind", "first", "last"),
    [
        # Monday 2026-12-07 00:30 in Shanghai is Sunday 16:30 UTC: last week ended
        (
            datetime(2026, 12, 6, 16, 30, tzinfo=UTC),
            SettlementPeriod.WEEKLY,
            date(2026, 11, 30),
            date(2026, 12, 6),
        ),
        # Sunday 23:59 in Shanghai: the week before ended
        (
            datetime(2026, 12, 6, 15, 59, tzinfo=UTC),
            SettlementPeriod.WEEKLY,
            date(2026, 11, 23),
            date(2026, 11, 29),
        ),
        (
            datetime(2026, 12, 6, 16, 30, tzinfo=UTC),
            SettlementPeriod.DAILY,
            date(2026, 12, 6),
            date(2026, 12, 6),
        ),
        (
            datetime(2026, 12, 6, 15, 59, tzinfo=UTC),
            SettlementPeriod.DAILY,
            date(2026, 12, 5),
            date(2026, 12, 5),
        ),
    ],
)
def test_periods_are_shanghai_days_and_weeks_from_monday(now, kind, first, last):
    ended = last_ended(now, kind)
    assert (ended.first_day, ended.last_day) == (first, last)
    assert ended.ends_at == datetime.combine(
        last + timedelta(days=1), datetime.min.time(), tzinfo=UTC
    ) - timedelta(hours=8)
    assert period_of(first, kind) == ended
