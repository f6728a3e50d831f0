"""Reads of the books: the charging terms (commission rates, the payment fee), balances, an
account's postings, an order's entries, the last balance check."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from commerce.catalog import queries as catalog
from commerce.db import fetch_rows
from commerce.ledger.errors import LedgerError
from commerce.ledger.models import BalanceCheck, CommissionRate, JournalEntry, LedgerAccount, Posting
from commerce.ledger.states import NO_DEBIT_BALANCE, AccountKind, EntryKind

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Terms:
    """What a payment is charged where no category says otherwise (Settings' values)."""

    commission_default_bps: int = 500
    payment_fee_bps: int = 60


_terms = Terms()


def configure(*, commission_default_bps: int, payment_fee_bps: int) -> None:
    """Take the settings' terms (called once by the core when it starts)."""
    global _terms
    _terms = Terms(commission_default_bps, payment_fee_bps)


def terms() -> Terms:
    return _terms


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


async def commission_rates_for_products(product_ids: list[int]) -> dict[int, int]:
    """Product id -> the commission in basis points: its category's rate, else its nearest
    ancestor's, else the default."""
    chains = await catalog.category_chains(sorted(set(product_ids)))
    wanted = sorted({c for chain in chains.values() for c in chain})
    rates = (
        dict(await CommissionRate.filter(category_id__in=wanted).values_list("category_id", "rate_bps"))
        if wanted
        else {}
    )
    default = _terms.commission_default_bps
    return {
        product_id: next((rates[c] for c in chains.get(product_id, []) if c in rates), default)
        for product_id in product_ids
    }


@dataclass(frozen=True)
class CategoryRate:
    category_id: int
    name: str  # from the root: "食品 > 茶叶"
    rate_bps: int | None  # its own rate, None when it takes its ancestor's or the default
    effective_bps: int  # what its products are charged
    updated_by: str = ""
    updated_at: datetime | None = None


async def category_rates() -> list[CategoryRate]:
    """Every category with its own and its effective commission rate, by full name."""
    own = {r.category_id: r for r in await CommissionRate.all()}
    default = _terms.commission_default_bps
    result = []
    for line in await catalog.category_lines():
        mine = own.get(line.id)
        result.append(
            CategoryRate(
                line.id,
                line.name,
                mine.rate_bps if mine else None,
                next((own[c].rate_bps for c in line.chain if c in own), default),
                mine.updated_by if mine else "",
                mine.updated_at if mine else None,
            )
        )
    return result


async def category_exists(category_id: int) -> bool:
    return bool(await catalog.category_chains_of([category_id]))


@dataclass(frozen=True)
class AccountView:
    id: int
    code: str
    kind: AccountKind
    owner_id: int | None
    balance: int  # debit positive
    updated_at: datetime

    @property
    def owed(self) -> int:
        """What the account holds as people read it: a liability's or revenue's credit shown
        positive (clearing and the expense accounts keep their debit sign)."""
        return self.balance if self.kind in _DEBIT_NATURE else -self.balance


# Accounts whose natural balance is a debit (an asset, an expense).
_DEBIT_NATURE = frozenset({AccountKind.CLEARING, AccountKind.PLATFORM_ADJUSTMENTS})


def _account_view(a: LedgerAccount) -> AccountView:
    return AccountView(a.id, a.code, AccountKind(a.kind), a.owner_id, a.balance, a.updated_at)


async def accounts() -> list[AccountView]:
    """Every account, by kind then owner."""
    rows = await LedgerAccount.all().order_by("kind", "owner_id", "id")
    return [_account_view(a) for a in rows]


async def account(account_id: int) -> AccountView:
    row = await LedgerAccount.get_or_none(id=account_id)
    if row is None:
        raise LedgerError.ACCOUNT_NOT_FOUND.error()
    return _account_view(row)


async def balance(code: str) -> int:
    """An account's running balance by code (0 for one never posted to)."""
    rows = await LedgerAccount.filter(code=code).values_list("balance", flat=True)
    return int(rows[0]) if rows else 0


@dataclass(frozen=True)
class PostingView:
    id: int
    entry_id: int
    entry_key: str
    entry_kind: EntryKind
    memo: str
    account_code: str
    amount: int  # debit positive
    order_id: int | None
    occurred_at: datetime


@dataclass(frozen=True)
class PostingPage:
    items: list[PostingView]
    total: int
    page: int
    page_size: int


async def postings_of_account(account_id: int, *, page: int = 1, page_size: int = 50) -> PostingPage:
    """An account's postings, newest first."""
    await account(account_id)
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    query = Posting.filter(account_id=account_id)
    total = await query.count()
    rows = (
        await query.order_by("-occurred_at", "-id")
        .offset((page - 1) * page_size)
        .limit(page_size)
        .prefetch_related("entry", "account")
    )
    return PostingPage([_posting_view(p) for p in rows], total, page, page_size)


async def entries_of_order(order_id: int) -> list[PostingView]:
    """Every posting that concerns the order, oldest first."""
    rows = await Posting.filter(order_id=order_id).order_by("id").prefetch_related("entry", "account")
    return [_posting_view(p) for p in rows]


async def postings_of_entry(key: str) -> list[PostingView]:
    """An entry's postings by its key ([] when it was never posted)."""
    rows = await Posting.filter(entry__key=key).order_by("id").prefetch_related("entry", "account")
    return [_posting_view(p) for p in rows]


def _posting_view(p: Posting) -> PostingView:
    entry: JournalEntry = p.entry  # type: ignore[assignment]
    return PostingView(
        p.id,
        entry.id,
        entry.key,
        EntryKind(entry.kind),
        entry.memo,
        p.account.code,  # type: ignore[attr-defined]
        p.amount,
        p.order_id,
        p.occurred_at,
    )


@dataclass(frozen=True)
class Recomputed:
    """Every account's running balance beside the sum of its postings."""

    accounts: int
    entries: int
    differences: list[dict] = field(default_factory=list)  # {"account", "balance", "recomputed", …}
    account_ids: list[int] = field(default_factory=list)


async def recompute() -> Recomputed:
    """Sum every account's postings in one pass and compare with its running balance."""
    sums = {
        row["account_id"]: int(row["total"] or 0)
        for row in await fetch_rows(
            "SELECT `account_id`, SUM(`amount`) AS `total` FROM `ledger_posting` GROUP BY `account_id`", []
        )
    }
    rows = await fetch_rows("SELECT `id`, `code`, `balance` FROM `ledger_account` ORDER BY `id`", [])
    entries = (await fetch_rows("SELECT COUNT(*) AS `n` FROM `journal_entry`", []))[0]["n"]
    differences = [
        {
            "account_id": row["id"],
            "account": row["code"],
            "balance": int(row["balance"]),
            "recomputed": sums.get(row["id"], 0),
        }
        for row in rows
        if int(row["balance"]) != sums.get(row["id"], 0)
    ]
    return Recomputed(len(rows), int(entries), differences, [row["id"] for row in rows])


@dataclass(frozen=True)
class BalanceCheckView:
    id: int
    checked_at: datetime
    accounts: int
    entries: int
    differences: list[dict]
    duration_ms: int


async def last_balance_check() -> BalanceCheckView | None:
    row = await BalanceCheck.all().order_by("-id").first()
    if row is None:
        return None
    return BalanceCheckView(
        row.id, row.checked_at, row.accounts, row.entries, list(row.differences), row.duration_ms
    )


async def in_debit(kinds: frozenset[AccountKind] = NO_DEBIT_BALANCE) -> list[str]:
    """The codes of accounts of these kinds holding a debit balance (never, for the defaults)."""
    return list(
        await LedgerAccount.filter(kind__in=list(kinds), balance__gt=0).values_list("code", flat=True)
    )
