"""What leaders' and KOLs' commissions share when they are earned: which orders are due
(completed more than the after-sales window ago, no after-sales request open), and earning one
commission: a refund still on its way makes it wait; a succeeded refund whose reversal was
missed is counted first; then what is left moves from the pending account to the payee's
withdrawable one, by a move pending → earned conditional on the reversed amount read (a refund
counted meanwhile makes it wait for the next run) and one entry keyed by the commission.
Each kind of commission describes itself in an `Earning`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q

from commerce import clock
from commerce.aftersales import queries as aftersales
from commerce.ledger import services as ledger
from commerce.ledger.states import EntryKind
from commerce.lifecycle import Lifecycle
from commerce.orders import queries as orders
from commerce.orders.states import OrderStatus
from commerce.payments import queries as payments
from commerce.payments.events import RefundSucceeded
from commerce.payments.states import RefundStatus
from commerce.transactions import unit_of_work, write_transaction

BATCH = 500
FINAL_REFUND = (RefundStatus.SUCCEEDED, RefundStatus.FAILED, RefundStatus.REFUSED)


async def due_orders(order_ids: Iterable[int], *, window_days: int) -> set[int]:
    """Of these orders, those completed more than `window_days` ago with no request open."""
    cutoff = clock.now() - timedelta(days=window_days)
    ids = sorted(set(order_ids))
    due: set[int] = set()
    for start in range(0, len(ids), BATCH):  # a busy day: thousands of orders waiting
        batch = ids[start : start + BATCH]
        facts = await orders.settlement_facts(set(batch))
        still_open = set(await aftersales.orders_with_open_requests(batch))
        due |= {
            order_id
            for order_id in batch
            if (f := facts.get(order_id)) is not None
            and f.status is OrderStatus.COMPLETED
            and f.completed_at is not None
            and f.completed_at <= cutoff
            and order_id not in still_open
        }
    return due


@dataclass(frozen=True)
class Earning:
    """How one kind of commission is earned: its rows, lifecycle and entry."""

    model: Any  # the commission model: id, order_id, order_no, status, amount, reversed
    refund_model: Any  # the refunds counted against it: commission_id, refund_id
    lifecycle: Lifecycle
    pending: StrEnum
    earned: StrEnum
    actor: str
    accounts: Callable[[Any], tuple[ledger.Account, ledger.Account]]  # row -> (pending, payee)
    entry: Callable[[Any], tuple[str, EntryKind, str]]  # row -> (key, kind, memo)
    reverse_refunded: Callable[[RefundSucceeded], Awaitable[Any]]
    # Anything else the earning writes in its transaction (a funnel's roll-up): (conn, row,
    # amount, now).
    also: Callable[[Any, Any, int, datetime], Awaitable[None]] | None = None


@unit_of_work
async def earn(earning: Earning, commission_id: int) -> bool:
    """What is left of the commission becomes the payee's, withdrawable; False when it is not
    pending any more, or a refund of its order is still on its way (the next run sees it)."""
    row = await earning.model.get_or_none(id=commission_id)
    if row is None or row.status is not earning.pending:
        return False
    refunds = await payments.refunds_of(row.order_id)
    if any(r.status not in FINAL_REFUND for r in refunds if not r.automatic):
        return False  # a refund on its way: wait for it
    counted = set(
        await earning.refund_model.filter(commission_id=commission_id).values_list("refund_id", flat=True)
    )
    missed = [
        r for r in refunds if r.status is RefundStatus.SUCCEEDED and not r.automatic and r.id not in counted
    ]
    for refund in missed:  # its delivery failed or was lost: counted now
        await earning.reverse_refunded(
            RefundSucceeded(refund_id=refund.id, order_id=row.order_id, aftersale_id=refund.aftersale_id)
        )
    if missed:
        row = await earning.model.get(id=commission_id)
        if row.status is not earning.pending:
            return False  # wholly refunded after all
    amount = row.amount - row.reversed
    pending, payee = earning.accounts(row)
    await ledger.ensure_accounts([pending, payee])
    now = clock.now()
    async with write_transaction() as conn:
        moved = await earning.lifecycle.try_move(
            conn,
            commission_id,
            earning.pending,
            earning.earned,
            actor=earning.actor,
            params={"amount": amount},
            changes={"earned": amount, "earned_at": now},
            where=Q(reversed=row.reversed),  # a refund counted meanwhile: the next run
        )
        if moved is None:
            return False
        if amount:
            key, kind, memo = earning.entry(row)
            await ledger.post(
                conn,
                key=key,
                kind=kind,
                lines=[
                    ledger.Line(pending, amount, order_id=row.order_id),
                    ledger.Line(payee, -amount, order_id=row.order_id),
                ],
                memo=memo,
                detail={"commission_id": commission_id, "accrued": row.amount, "reversed": row.reversed},
            )
            if earning.also is not None:
                await earning.also(conn, row, amount, now)
    return True
