"""The books' property: random sequences of payments (one to three merchants' orders, random
line payables, commission rates and fees, sometimes an order that cannot take its money),
partial refunds of lines and of shipping, automatic refunds of returned money, and finance's
adjustments (credits and debits of merchants and payees) never break the books, read from the
database after every step:

- every entry's postings sum to zero, and so does every account's balance together;
- no payee, payout in transit or refund due is ever in debit (a debit that would is refused);
- every running balance equals the sum of its postings;
- a charge is never reversed beyond what was charged, and a fully refunded line or order has
  reversed exactly its commission or fee.

Orders are given to the posting functions as the books read them (ChargedOrder), with ids of
their own per example; the database is not emptied between examples, so the checks are global.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from commerce.db import fetch_rows
from commerce.errors import CommerceError
from commerce.ledger import handlers, queries
from commerce.ledger.errors import LedgerError
from commerce.ledger.services import PLATFORM_ADJUSTMENTS, Line, merchant_payable, payee_payable, record
from commerce.ledger.states import EntryKind
from commerce.orders.queries import ChargedLine, ChargedOrder

_ids = itertools.count(1)

_line = st.tuples(st.integers(0, 50_000), st.sampled_from([None, 0, 333, 500, 800, 10_000]))
_order = st.tuples(
    st.integers(1, 3),  # merchant
    st.lists(_line, min_size=1, max_size=3),
    st.integers(0, 2_000),  # shipping
    st.sampled_from([None, 0, 60, 100]),  # fee bps
    st.booleans(),  # returned (could not take the money)
)
_pay = st.tuples(st.just("pay"), st.lists(_order, min_size=1, max_size=3))
# Often all of what is left, so that lines and orders get fully refunded.
_percent = st.one_of(st.just(100), st.just(100), st.integers(1, 100))
_refund = st.tuples(
    st.just("refund"),
    st.integers(0, 100),  # which paid order (modulo)
    st.lists(st.tuples(st.integers(0, 3), _percent), min_size=1, max_size=3),  # (line, % left)
    st.one_of(st.just(0), _percent),  # % of the shipping left
)
_adjust = st.tuples(
    st.just("adjust"),
    st.sampled_from(["merchant", "payee"]),
    st.integers(1, 3),
    st.integers(-5_000, 5_000).filter(bool),
)
_action = st.one_of(_pay, _refund, _adjust)


@dataclass
class Paid:
    order: ChargedOrder
    left: dict[int, int]  # line id (0: shipping) -> fen not refunded yet


@dataclass
class Books:
    paid: list[Paid] = field(default_factory=list)


async def _step(books: Books, action: tuple) -> None:
    if action[0] == "pay":
        paid, returned = [], []
        for merchant, lines, shipping, fee_bps, cannot in action[1]:
            order_id = next(_ids)
            charged_lines = [ChargedLine(next(_ids), payable, rate) for payable, rate in lines]
            shipping += 0 if any(payable for payable, _ in lines) else 1  # WeChat Pay takes 1 fen at least
            payable = sum(line.payable for line in charged_lines) + shipping
            order = ChargedOrder(order_id, f"T{order_id}", merchant, payable, fee_bps, charged_lines)
            if cannot:
                returned.append(order)
            else:
                paid.append(order)
                left = {line.id: line.payable for line in charged_lines} | {0: shipping}
                books.paid.append(Paid(order, left))
        await handlers.post_charged_payment(
            key=f"payment:p{next(_ids)}", paid=paid, returned=returned, paid_at=None
        )
        for order in returned:  # its automatic refund succeeds
            await record(
                key=f"refund:r{next(_ids)}",
                kind=EntryKind.REFUND,
                lines=[Line(handlers.REFUNDS_DUE, order.payable), Line(handlers.CLEARING, -order.payable)],
            )
    elif action[0] == "refund" and books.paid:
        target = books.paid[action[1] % len(books.paid)]
        ids = [line.id for line in target.order.lines]
        parts: dict[int, int] = {}
        for index, percent in action[2]:
            line_id = ids[index % len(ids)]
            share = (target.left[line_id] - parts.get(line_id, 0)) * percent // 100
            if share:
                parts[line_id] = parts.get(line_id, 0) + share
        shipping = target.left[0] * action[3] // 100
        if shipping:
            parts[0] = shipping
        if not parts:
            return
        amount = sum(parts.values())
        await handlers.post_order_refund(
            key=f"refund:{next(_ids)}", order=target.order, amount=amount, parts=parts, memo="退款", at=None
        )
        for line_id, share in parts.items():
            target.left[line_id] -= share
    elif action[0] == "adjust":
        _, payable, owner, amount = action
        account = merchant_payable(owner) if payable == "merchant" else payee_payable(owner)
        try:
            await record(
                key=f"adjustment:{next(_ids)}",
                kind=EntryKind.ADJUSTMENT,
                lines=[Line(PLATFORM_ADJUSTMENTS, amount), Line(account, -amount)],
            )
        except CommerceError as exc:  # a payee's debit beyond what they hold
            assert exc.code == LedgerError.INSUFFICIENT_BALANCE.code and payable == "payee" and amount < 0


async def _check() -> None:
    unbalanced = await fetch_rows(
        "SELECT `entry_id` FROM `ledger_posting` GROUP BY `entry_id` HAVING SUM(`amount`) <> 0", []
    )
    assert unbalanced == []
    total = await fetch_rows("SELECT COALESCE(SUM(`balance`), 0) AS `n` FROM `ledger_account`", [])
    assert int(total[0]["n"]) == 0
    assert await queries.in_debit() == []
    assert (await queries.recompute()).differences == []
    odd = await fetch_rows(
        "SELECT `id` FROM `ledger_charge_reversal` WHERE `reversed` > `charged` OR `refunded` > `basis`"
        " OR (`refunded` = `basis` AND `reversed` <> `charged`)",
        [],
    )
    assert odd == []


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
)
@given(actions=st.lists(_action, min_size=2, max_size=12))
async def test_random_payments_refunds_and_adjustments_keep_the_books_whole(db, actions):
    note(f"actions: {actions}")
    books = Books()
    for action in actions:
        await _step(books, action)
        await _check()
    # and a fully refunded order's charges are all reversed
    for paid in books.paid:
        if not any(paid.left.values()):
            rows = await fetch_rows(
                "SELECT `charged`, `reversed` FROM `ledger_charge_reversal` WHERE `order_id` = ?",
                [paid.order.id],
            )
            assert all(row["charged"] == row["reversed"] for row in rows)
