"""What leaders' and KOLs' commissions share when a refund is counted against one, in one
transaction: the refund's row first (a second delivery of the same refund waits on its key,
then fails it); the commission's refunded amount within its basis (concurrent refunds of one
order queue on its row); each line's cumulative share reversed (commission_lines); the entry
taking that back into the platform's commission account, from the pending account or, once
earned, from the payee's balance (refused when it was withdrawn since); and the move to
reversed when everything was refunded before it was earned. Each kind of commission describes
itself in a `Reversal`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError

from commerce import clock, commission_lines
from commerce.db import execute, fetch_rows, insert, model_row
from commerce.errors import CommerceError
from commerce.ledger import services as ledger
from commerce.ledger.errors import LedgerError
from commerce.ledger.states import EntryKind
from commerce.lifecycle import Lifecycle
from commerce.transactions import unit_of_work, write_transaction

TABLES = frozenset({"leader_commission", "kol_commission"})


@dataclass(frozen=True)
class Entry:
    key: str
    kind: EntryKind
    memo: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Reversal:
    """How refunds are counted against one kind of commission."""

    table: str  # the commission's; its lines are `<table>_line`, its refunds `<table>_refund`
    model: Any  # the commission model
    refund_model: Any  # the refunds counted: refund_id, commission_id, refunded, reversed
    lifecycle: Lifecycle
    payee_of: Callable[[Any], int]  # row -> the payee's user id
    accounts: Callable[[int], tuple[ledger.Account, ledger.Account]]  # user -> (pending, payee)
    open: tuple[StrEnum, ...]  # not earned yet: reversed from the pending account
    reversed: StrEnum
    voided: StrEnum | None  # given back to the platform whole: a refund of it reverses nothing
    reversed_part: StrEnum  # the timeline's event type for a refund counted
    append_event: Callable[[Any, int, Any, dict], Awaitable[None]]  # (conn, id, type, params)
    actor: str
    entry: Callable[[dict, int, ledger.Account], Entry]  # (state, refund id, account held) -> entry
    over_refunded: Callable[..., CommerceError]
    already_earned: Callable[..., CommerceError]
    columns: tuple[str, ...] = ()  # further columns of the commission `entry` and `also` read
    # Anything else the reversal writes in its transaction (a funnel's roll-up): (conn, state,
    # amount, at).
    also: Callable[[Any, dict, int, datetime], Awaitable[None]] | None = None


@unit_of_work
async def reverse(
    reversal: Reversal,
    *,
    commission_id: int,
    refund_id: int,
    parts: dict[int, int],
    at: datetime | None = None,
) -> int:
    """Count a refund's line parts (fen per order line) against the commission; the fen
    reversed. Once per (refund, commission): counting it again reverses nothing."""
    if reversal.table not in TABLES:
        raise ValueError(f"not a commission table: {reversal.table}")
    table = reversal.table
    user = reversal.payee_of(await reversal.model.get(id=commission_id))
    pending, payee = reversal.accounts(user)
    await ledger.ensure_accounts([ledger.PLATFORM_COMMISSION, pending, payee])
    refunded = sum(parts.values())
    at = at or clock.now()
    try:
        async with write_transaction() as conn:
            counted = await insert(
                f"{table}_refund",
                model_row(
                    reversal.refund_model,
                    {
                        "refund_id": refund_id,
                        "commission_id": commission_id,
                        "refunded": refunded,
                        "reversed": 0,
                        "created_at": clock.now(),
                    },
                ),
                connection=conn,
            )
            taken = await execute(
                f"UPDATE `{table}` SET `refunded` = `refunded` + ?, `updated_at` = ?"
                " WHERE `id` = ? AND `refunded` + ? <= `basis`",
                [refunded, clock.now(), commission_id, refunded],
                connection=conn,
            )
            if not taken:
                raise reversal.over_refunded(commission_id=commission_id, refunded=refunded)
            columns = ", ".join(
                f"`{c}`" for c in ("status", "basis", "refunded", "order_id", "order_no", *reversal.columns)
            )
            [state] = await fetch_rows(
                f"SELECT {columns} FROM `{table}` WHERE `id` = ?", [commission_id], connection=conn
            )
            status = type(reversal.reversed)(state["status"])
            reversed_now = (
                0
                if status is reversal.voided
                else await commission_lines.reverse_lines(
                    conn,
                    table=f"{table}_line",
                    commission_id=commission_id,
                    parts=parts,
                    over_refunded=reversal.over_refunded,
                )
            )
            await execute(
                f"UPDATE `{table}` SET `reversed` = `reversed` + ? WHERE `id` = ?",
                [reversed_now, commission_id],
                connection=conn,
            )
            await execute(
                f"UPDATE `{table}_refund` SET `reversed` = ? WHERE `id` = ?",
                [reversed_now, counted],
                connection=conn,
            )
            params = {"refund_id": refund_id, "refunded": refunded, "amount": reversed_now}
            await reversal.append_event(conn, commission_id, reversal.reversed_part, params)
            if reversed_now:
                held = pending if status in reversal.open else payee
                await _post(conn, reversal, state, held, refund_id, reversed_now, at)
                if reversal.also is not None:
                    await reversal.also(conn, state, reversed_now, at)
            if status in reversal.open and int(state["refunded"]) == int(state["basis"]):
                await reversal.lifecycle.move(
                    conn, commission_id, status, reversal.reversed, actor=reversal.actor,
                    params={"refund_id": refund_id},
                )  # fmt: skip
    except IntegrityError:  # the same refund counted at the same moment elsewhere
        if await reversal.refund_model.exists(refund_id=refund_id, commission_id=commission_id):
            return 0
        raise
    return reversed_now


async def _post(
    conn: Any,
    reversal: Reversal,
    state: dict,
    held: ledger.Account,
    refund_id: int,
    amount: int,
    at: datetime,
) -> None:
    order_id = int(state["order_id"])
    entry = reversal.entry(state, refund_id, held)
    try:
        await ledger.post(
            conn,
            key=entry.key,
            kind=entry.kind,
            lines=[
                ledger.Line(held, amount, order_id=order_id),
                ledger.Line(ledger.PLATFORM_COMMISSION, -amount, order_id=order_id),
            ],
            memo=entry.memo,
            detail=entry.detail,
            occurred_at=at,
        )
    except CommerceError as error:
        if error.code == LedgerError.INSUFFICIENT_BALANCE.code:  # earned and withdrawn already
            raise reversal.already_earned(refund_id=refund_id) from None
        raise
