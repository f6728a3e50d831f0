"""Which orders settle in a period, and what a statement's figures are, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from commerce.ledger.statement_reads import PostingRead
from commerce.ledger.states import AccountKind, EntryKind
from commerce.orders.queries import SettlementFacts
from commerce.orders.states import OrderStatus
from commerce.settlement.figures import figures_of, items_of, settleable

END = datetime(2026, 12, 6, 16, 0, tzinfo=UTC)  # Monday 00:00 in Shanghai
WEEK = timedelta(days=7)


def _order(status: OrderStatus, completed: datetime | None = None, closed: datetime | None = None):
    return SettlementFacts(7, "N7", 3, status, completed, closed)


@pytest.mark.parametrize(
    ("facts", "open_orders", "settles"),
    [
        (_order(OrderStatus.COMPLETED, completed=END - WEEK), (), True),  # the window ends with the period
        (_order(OrderStatus.COMPLETED, completed=END - WEEK + timedelta(seconds=1)), (), False),
        (_order(OrderStatus.COMPLETED, completed=END - 2 * WEEK), (7,), False),  # a request is open
        (_order(OrderStatus.CLOSED, completed=END, closed=END), (), True),  # closed by the end
        (_order(OrderStatus.CLOSED, closed=END + timedelta(seconds=1)), (), False),
        (_order(OrderStatus.SHIPPED), (), False),
        (_order(OrderStatus.PAID), (), False),
        (None, (), False),
    ],
)
def test_an_order_settles_once_its_window_passed_or_it_closed(facts, open_orders, settles):
    assert settleable(facts, by=END, window=WEEK, open_orders=open_orders) is settles


def _posting(pid: int, entry: int, kind: EntryKind, account: AccountKind, amount: int, order: int | None):
    owner = 3 if account is AccountKind.MERCHANT_PAYABLE else None
    return PostingRead(pid, entry, f"{kind}:{entry}", kind, account, owner, amount, order, END)


def test_figures_add_up_to_what_the_payable_postings_say():
    # a payment of 10000 (commission 500, fee 60), a refund of 4000 of it, and a later refund
    # of an order settled before (an adjustment), and a credit of no order
    entries = [
        _posting(1, 1, EntryKind.PAYMENT, AccountKind.CLEARING, 10000, 5),
        _posting(2, 1, EntryKind.PAYMENT, AccountKind.PLATFORM_COMMISSION, -500, 5),
        _posting(3, 1, EntryKind.PAYMENT, AccountKind.PAYMENT_FEES, -60, 5),
        _posting(4, 1, EntryKind.PAYMENT, AccountKind.MERCHANT_PAYABLE, -9440, 5),
        _posting(5, 2, EntryKind.REFUND, AccountKind.CLEARING, -4000, 5),
        _posting(6, 2, EntryKind.REFUND, AccountKind.PLATFORM_COMMISSION, 200, 5),
        _posting(7, 2, EntryKind.REFUND, AccountKind.PAYMENT_FEES, 24, 5),
        _posting(8, 2, EntryKind.REFUND, AccountKind.MERCHANT_PAYABLE, 3776, 5),
        _posting(9, 3, EntryKind.REFUND, AccountKind.CLEARING, -1000, 4),
        _posting(10, 3, EntryKind.REFUND, AccountKind.PLATFORM_COMMISSION, 50, 4),
        _posting(11, 3, EntryKind.REFUND, AccountKind.MERCHANT_PAYABLE, 950, 4),
        _posting(12, 4, EntryKind.ADJUSTMENT, AccountKind.PLATFORM_ADJUSTMENTS, 300, None),
        _posting(13, 4, EntryKind.ADJUSTMENT, AccountKind.MERCHANT_PAYABLE, -300, None),
    ]
    due = [p for p in entries if p.account_kind is AccountKind.MERCHANT_PAYABLE]
    items = items_of(due, entries, settled_orders={4})
    figures = figures_of(items)
    assert [i.is_adjustment for i in items] == [False, False, True, True]
    assert (figures.sales, figures.refunds, figures.commission, figures.fees) == (10000, 4000, 300, 36)
    assert figures.adjustments == -950 + 300
    assert figures.payable == -sum(p.amount for p in due) == 9440 - 3776 - 950 + 300
    assert (
        figures.payable
        == figures.sales - figures.refunds - figures.commission - figures.fees + figures.adjustments
    )
