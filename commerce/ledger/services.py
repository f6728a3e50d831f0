"""Posting to the books: one balanced entry per causing event, posted once.

    await ledger.record(
        key=f"payment:{payment_id}",
        kind=EntryKind.PAYMENT,
        lines=[Line(CLEARING, 1000, order_id=5), Line(merchant_payable(3), -940, order_id=5), …],
        memo="订单 … 支付",
    )

`record` is a unit of work of its own (a subscriber's); `post` writes inside a caller's
transaction (a withdrawal holds its amount in the same transaction that records it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from commerce import clock
from commerce.db import execute, fetch_rows, insert, insert_many, model_row
from commerce.ledger.errors import LedgerError
from commerce.ledger.models import JournalEntry, LedgerAccount, Posting
from commerce.ledger.states import NO_DEBIT_BALANCE, OWNED_KINDS, AccountKind, EntryKind
from commerce.transactions import unit_of_work, write_transaction


@dataclass(frozen=True)
class Account:
    """An account by what it is (its row is made on first use)."""

    kind: AccountKind
    owner_id: int | None = None

    def __post_init__(self) -> None:
        if (self.owner_id is not None) != (self.kind in OWNED_KINDS):
            raise ValueError(f"{self.kind} {'needs' if self.kind in OWNED_KINDS else 'takes no'} owner")

    @property
    def code(self) -> str:
        return self.kind.value if self.owner_id is None else f"{self.kind.value}:{self.owner_id}"


CLEARING = Account(AccountKind.CLEARING)
PLATFORM_COMMISSION = Account(AccountKind.PLATFORM_COMMISSION)
PAYMENT_FEES = Account(AccountKind.PAYMENT_FEES)
PLATFORM_ADJUSTMENTS = Account(AccountKind.PLATFORM_ADJUSTMENTS)
PAYOUTS_IN_TRANSIT = Account(AccountKind.PAYOUTS_IN_TRANSIT)
REFUNDS_DUE = Account(AccountKind.REFUNDS_DUE)


def merchant_payable(merchant_id: int) -> Account:
    return Account(AccountKind.MERCHANT_PAYABLE, merchant_id)


def payee_payable(user_id: int) -> Account:
    return Account(AccountKind.PAYEE_PAYABLE, user_id)


def leader_pending(user_id: int) -> Account:
    return Account(AccountKind.LEADER_PENDING, user_id)


def kol_pending(user_id: int) -> Account:
    return Account(AccountKind.KOL_PENDING, user_id)


@dataclass(frozen=True)
class Line:
    """One posting of an entry: fen, debit positive, credit negative."""

    account: Account
    amount: int
    order_id: int | None = None


async def ensure_accounts(accounts: Iterable[Account], *, connection: Any = None) -> dict[str, int]:
    """The ids of these accounts by code, making the rows that do not exist yet. Called before
    a posting transaction where it can be, so that two first postings to a new account do not
    collide inside their transactions."""
    wanted = {a.code: a for a in accounts}
    found = await _account_ids(list(wanted), connection)
    for code in wanted.keys() - found.keys():
        account = wanted[code]
        now = clock.now()
        row = model_row(
            LedgerAccount,
            {
                "code": code,
                "kind": account.kind,
                "owner_id": account.owner_id,
                "created_at": now,
                "updated_at": now,
            },
        )
        try:
            found[code] = await insert("ledger_account", row, connection=connection)
        except IntegrityError:  # made meanwhile by another posting
            if connection is not None:
                raise
            found.update(await _account_ids([code], None))
    return found


async def _account_ids(codes: list[str], connection: Any) -> dict[str, int]:
    if not codes:
        return {}
    marks = ", ".join("?" for _ in codes)
    rows = await fetch_rows(
        f"SELECT `id`, `code` FROM `ledger_account` WHERE `code` IN ({marks})", codes, connection=connection
    )
    return {row["code"]: row["id"] for row in rows}


@unit_of_work
async def record(
    *,
    key: str,
    kind: EntryKind,
    lines: Sequence[Line],
    memo: str = "",
    actor: str = "system",
    detail: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> int | None:
    """Post one entry in a transaction of its own; its id, or None when `key` was posted before."""
    await ensure_accounts(line.account for line in lines)
    try:
        async with write_transaction() as conn:
            return await post(
                conn,
                key=key,
                kind=kind,
                lines=lines,
                memo=memo,
                actor=actor,
                detail=detail,
                occurred_at=occurred_at,
            )
    except IntegrityError:
        if await is_posted(key):  # the same event posted at the same moment elsewhere
            return None
        raise


async def post(
    conn: Any,
    *,
    key: str,
    kind: EntryKind,
    lines: Sequence[Line],
    memo: str = "",
    actor: str = "system",
    detail: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> int | None:
    """Post one entry inside the caller's transaction; its id, or None when `key` was posted
    before. Raises UNBALANCED (a bug) and INSUFFICIENT_BALANCE (an account that must not go
    into debit would), which rolls the caller's transaction back."""
    lines = [line for line in lines if line.amount]
    if not lines or sum(line.amount for line in lines) != 0:
        raise LedgerError.UNBALANCED.error(
            key=key, lines=[(line.account.code, line.amount) for line in lines]
        )
    if await is_posted(key, connection=conn):
        return None
    ids = await ensure_accounts((line.account for line in lines), connection=conn)
    now = clock.now()
    at = occurred_at or now
    # The balances first: their UPDATEs lock the accounts (in id order) before the postings'
    # foreign keys take shared locks on them, which two entries would otherwise both hold and
    # then both wait to upgrade (a deadlock on every busy account, seen on MariaDB).
    await _move_balances(conn, lines, ids, now)
    entry_id = await insert(
        "journal_entry",
        model_row(
            JournalEntry,
            {
                "key": key,
                "kind": kind,
                "memo": memo[:200],
                "actor": actor,
                "detail": detail or {},
                "occurred_at": at,
                "created_at": now,
            },
        ),
        connection=conn,
    )
    await insert_many(
        "ledger_posting",
        [
            model_row(
                Posting,
                {
                    "entry_id": entry_id,
                    "account_id": ids[line.account.code],
                    "amount": line.amount,
                    "order_id": line.order_id,
                    "occurred_at": at,
                },
            )
            for line in lines
        ],
        connection=conn,
    )
    return entry_id


async def _move_balances(conn: Any, lines: Sequence[Line], ids: dict[str, int], now: datetime) -> None:
    """Add each account's share to its running balance, in id order (two entries touching the
    same accounts lock them in the same order, so they queue rather than deadlock)."""
    moves: dict[str, int] = {}
    for line in lines:
        moves[line.account.code] = moves.get(line.account.code, 0) + line.amount
    floored = {line.account.code for line in lines if line.account.kind in NO_DEBIT_BALANCE}
    for code in sorted(moves, key=ids.__getitem__):
        amount = moves[code]
        if not amount:
            continue
        if code in floored and amount > 0:
            moved = await execute(
                "UPDATE `ledger_account` SET `balance` = `balance` + ?, `updated_at` = ?"
                " WHERE `id` = ? AND `balance` + ? <= 0",
                [amount, now, ids[code], amount],
                connection=conn,
            )
            if not moved:
                raise LedgerError.INSUFFICIENT_BALANCE.error(account=code)
        else:
            await execute(
                "UPDATE `ledger_account` SET `balance` = `balance` + ?, `updated_at` = ? WHERE `id` = ?",
                [amount, now, ids[code]],
                connection=conn,
            )


async def is_posted(key: str, *, connection: Any = None) -> bool:
    rows = await fetch_rows("SELECT `id` FROM `journal_entry` WHERE `key` = ?", [key], connection=connection)
    return bool(rows)
