"""Statements equal the ledger, whatever happens: random sequences of payments (one to three
merchants' orders, each settling some days after it was paid), partial refunds, finance's
credits and debits of merchants, and settlements (a day passes, statements are issued, finance
approves them and pays those that owe something) keep, read from the database after each step:

- a statement's amount owed is minus the sum of its items' postings in the books, plus what it
  took over from earlier statements, and equals sales − refunds − commission − fees +
  adjustments + carried in;
- what the books owe each merchant is what its open statements (issued or approved) say plus
  its postings no statement holds yet: paid statements were paid by their SETTLEMENT_PAID entry,
  carried ones live on in the statement that took them over.

Orders are given to the ledger's posting functions as the books read them (ChargedOrder), and
the orders' settlement facts are those of this example's orders (a stand-in for the orders
context); the database is not emptied between examples, so time moves on across them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from commerce import clock
from commerce.db import fetch_rows
from commerce.ledger import handlers
from commerce.ledger.services import PLATFORM_ADJUSTMENTS, Line, merchant_payable, record
from commerce.ledger.states import EntryKind
from commerce.orders.queries import ChargedLine, ChargedOrder, SettlementFacts
from commerce.orders.states import OrderStatus
from commerce.settlement import services
from commerce.settlement.models import Statement
from commerce.settlement.states import StatementStatus
from commerce.staff.auth import Staff
from commerce.staff.states import StaffRole

FINANCE = Staff(id=950, username="money-1", role=StaffRole.FINANCE, merchant_id=None)
MERCHANTS = (1, 2, 3)
_ids = itertools.count(1)
_days = itertools.count(0)
START = datetime(2030, 1, 7, 4, 0, tzinfo=UTC)  # noon in Shanghai

_order = st.tuples(
    st.sampled_from(MERCHANTS),
    st.lists(st.integers(1, 50_000), min_size=1, max_size=3),  # line payables
    st.integers(0, 2_000),  # shipping
    st.integers(0, 3),  # days until it may settle
)
_pay = st.tuples(st.just("pay"), st.lists(_order, min_size=1, max_size=3))
_refund = st.tuples(
    st.just("refund"), st.integers(0, 100), st.integers(0, 3), st.sampled_from([100, 100, 50, 1])
)
_adjust = st.tuples(st.just("adjust"), st.sampled_from(MERCHANTS), st.integers(-30_000, 30_000).filter(bool))
_settle = st.tuples(st.just("settle"))
_action = st.one_of(_pay, _refund, _adjust, _settle, _settle)


@dataclass
class Paid:
    order: ChargedOrder
    left: dict[int, int]  # line id -> fen not refunded yet


@dataclass
class World:
    now: datetime
    paid: list[Paid] = field(default_factory=list)
    facts: dict[int, SettlementFacts] = field(default_factory=dict)


async def _step(world: World, action: tuple) -> None:
    if action[0] == "pay":
        orders = []
        for merchant, payables, shipping, days in action[1]:
            order_id = next(_ids)
            lines = [ChargedLine(next(_ids), payable, 500) for payable in payables]
            order = ChargedOrder(order_id, f"P{order_id}", merchant, sum(payables) + shipping, 60, lines)
            orders.append(order)
            world.paid.append(Paid(order, {line.id: line.payable for line in lines}))
            completed = world.now + timedelta(days=days)
            world.facts[order_id] = SettlementFacts(
                order_id, order.order_no, merchant, OrderStatus.COMPLETED, completed, None
            )
        await handlers.post_charged_payment(
            key=f"payment:p{next(_ids)}", paid=orders, returned=[], paid_at=world.now
        )
    elif action[0] == "refund" and world.paid:
        target = world.paid[action[1] % len(world.paid)]
        line_id = list(target.left)[action[2] % len(target.left)]
        share = target.left[line_id] * action[3] // 100
        if not share:
            return
        await handlers.post_order_refund(
            key=f"refund:{next(_ids)}",
            order=target.order,
            amount=share,
            parts={line_id: share},
            memo="退款",
            at=world.now,
        )
        target.left[line_id] -= share
    elif action[0] == "adjust":
        _, merchant, amount = action
        await record(
            key=f"adjustment:{next(_ids)}",
            kind=EntryKind.ADJUSTMENT,
            lines=[Line(PLATFORM_ADJUSTMENTS, amount), Line(merchant_payable(merchant), -amount)],
            occurred_at=world.now,
        )
    elif action[0] == "settle":
        world.now = START + timedelta(days=next(_days) + 1)
        with clock.frozen(world.now):
            await services.issue_statements(period="daily", window_days=0)
            for statement in await Statement.filter(status=StatementStatus.ISSUED):
                await services.approve(statement_id=statement.id, staff=FINANCE)
            for statement in await Statement.filter(status=StatementStatus.APPROVED, owed__gt=0):
                await services.mark_paid(
                    statement_id=statement.id,
                    staff=FINANCE,
                    reference=f"B{statement.id}",
                    paid_on=f"{world.now:%Y-%m-%d}",
                )


async def _check() -> None:
    for s in await Statement.all():
        rows = await fetch_rows(
            "SELECT COALESCE(SUM(p.`amount`), 0) AS `n` FROM `settlement_statement_item` i"
            " JOIN `ledger_posting` p ON p.`id` = i.`posting_id` WHERE i.`statement_id` = ?",
            [s.id],
        )
        assert s.owed == -int(rows[0]["n"]) + s.carried_in, s.id
        assert s.owed == s.sales - s.refunds - s.commission - s.fees + s.adjustments + s.carried_in, s.id
    for merchant in MERCHANTS:
        balance = await fetch_rows(
            "SELECT `balance` FROM `ledger_account` WHERE `code` = ?", [f"merchant_payable:{merchant}"]
        )
        owed_by_books = -int(balance[0]["balance"]) if balance else 0
        unsettled = await fetch_rows(
            "SELECT COALESCE(SUM(p.`amount`), 0) AS `n` FROM `ledger_posting` p"
            " JOIN `ledger_account` a ON a.`id` = p.`account_id`"
            " JOIN `journal_entry` e ON e.`id` = p.`entry_id`"
            " WHERE a.`code` = ? AND e.`kind` <> 'settlement_paid'"
            " AND p.`id` NOT IN (SELECT `posting_id` FROM `settlement_statement_item`)",
            [f"merchant_payable:{merchant}"],
        )
        open_owed = sum(
            await Statement.filter(
                merchant_id=merchant, status__in=[StatementStatus.ISSUED, StatementStatus.APPROVED]
            ).values_list("owed", flat=True)
        )
        assert owed_by_books == open_owed - int(unsettled[0]["n"]), merchant


@pytest.fixture
def orders_of_this_world(monkeypatch):
    """The orders' settlement facts from the example's own orders (the books know no others)."""
    known: dict[int, SettlementFacts] = {}

    async def facts(order_ids: set[int]) -> dict[int, SettlementFacts]:
        return {i: known[i] for i in order_ids if i in known}

    monkeypatch.setattr(services.orders, "settlement_facts", facts)
    return known


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
)
@given(actions=st.lists(_action, min_size=2, max_size=12))
async def test_statements_equal_the_ledger_whatever_happens(db, orders_of_this_world, actions):
    note(f"actions: {actions}")
    world = World(now=START + timedelta(days=next(_days)), facts=orders_of_this_world)
    for action in actions:
        await _step(world, action)
        await _check()
