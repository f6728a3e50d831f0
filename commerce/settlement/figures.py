"""What a statement's items and figures are, from the books' postings (no database)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from commerce.ledger.statement_reads import PostingRead
from commerce.ledger.states import AccountKind, EntryKind
from commerce.orders.queries import SettlementFacts
from commerce.orders.states import OrderStatus


@dataclass(frozen=True)
class Item:
    posting_id: int
    entry_id: int
    entry_kind: str
    entry_key: str
    order_id: int | None
    occurred_at: datetime
    payable: int  # what it adds to the amount owed
    sales: int = 0
    refunds: int = 0
    commission: int = 0
    fees: int = 0
    is_adjustment: bool = False


@dataclass(frozen=True)
class Figures:
    sales: int = 0
    refunds: int = 0
    commission: int = 0
    fees: int = 0
    adjustments: int = 0
    payable: int = 0  # the items' sum: what they add to the amount owed


def settleable(
    facts: SettlementFacts | None, *, by: datetime, window: timedelta, open_orders: Collection[int]
) -> bool:
    """Whether the order's money may be settled in a period ending at `by`: completed and its
    after-sales window passed with no request open, or closed (everything refunded)."""
    if facts is None or facts.id in open_orders:
        return False
    if facts.status is OrderStatus.CLOSED:
        return facts.closed_at is not None and facts.closed_at <= by
    if facts.status is OrderStatus.COMPLETED:
        return facts.completed_at is not None and facts.completed_at + window <= by
    return False


def items_of(
    due: Iterable[PostingRead], entry_postings: Iterable[PostingRead], settled_orders: Collection[int]
) -> list[Item]:
    """One item per due payable posting, with its order's gross figures in the same entry:
    sales (the order's clearing debit in a payment), refunds (its clearing credit in a
    refund), the commission and fees charged (net of reversals)."""
    by_entry_order: dict[tuple[int, int | None], list[PostingRead]] = {}
    for posting in entry_postings:
        by_entry_order.setdefault((posting.entry_id, posting.order_id), []).append(posting)
    counted: set[tuple[int, int | None]] = set()
    items = []
    for posting in due:
        key = (posting.entry_id, posting.order_id)
        others = by_entry_order.get(key, []) if posting.order_id is not None and key not in counted else []
        counted.add(key)
        clearing = sum(p.amount for p in others if p.account_kind is AccountKind.CLEARING)
        items.append(
            Item(
                posting_id=posting.id,
                entry_id=posting.entry_id,
                entry_kind=posting.entry_kind.value,
                entry_key=posting.entry_key,
                order_id=posting.order_id,
                occurred_at=posting.occurred_at,
                payable=-posting.amount,
                sales=clearing if posting.entry_kind is EntryKind.PAYMENT else 0,
                refunds=-clearing if posting.entry_kind is EntryKind.REFUND else 0,
                commission=-sum(
                    p.amount for p in others if p.account_kind is AccountKind.PLATFORM_COMMISSION
                ),
                fees=-sum(p.amount for p in others if p.account_kind is AccountKind.PAYMENT_FEES),
                is_adjustment=posting.order_id is None or posting.order_id in settled_orders,
            )
        )
    return items


def figures_of(items: Iterable[Item]) -> Figures:
    """The statement's (or one order's) figures: what its orders sold, refunded and were
    charged, and the adjustments (every item of an order settled before, or of none)."""
    sales = refunds = commission = fees = adjustments = payable = 0
    for item in items:
        payable += item.payable
        if item.is_adjustment:
            adjustments += item.payable
            continue
        sales += item.sales
        refunds += item.refunds
        commission += item.commission
        fees += item.fees
    return Figures(sales, refunds, commission, fees, adjustments, payable)
