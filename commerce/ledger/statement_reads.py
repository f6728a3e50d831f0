"""Reads of the books for merchant settlement (commerce.settlement): a merchant's payable
postings not settled yet, and the postings of the entries they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Subquery

from commerce.ledger.models import LedgerAccount, Posting
from commerce.ledger.states import AccountKind, EntryKind


@dataclass(frozen=True)
class PostingRead:
    id: int
    entry_id: int
    entry_key: str
    entry_kind: EntryKind
    account_kind: AccountKind
    owner_id: int | None
    amount: int  # debit positive
    order_id: int | None
    occurred_at: datetime


async def merchants_with_payable() -> list[int]:
    """The merchants that have a payable account (anything ever posted to it)."""
    ids = await LedgerAccount.filter(kind=AccountKind.MERCHANT_PAYABLE).values_list("owner_id", flat=True)
    return sorted(i for i in ids if i is not None)


async def unsettled_payable(merchant_id: int, *, before: datetime, settled: Subquery) -> list[PostingRead]:
    """The merchant's payable postings that occurred before `before` and are not among the
    `settled` posting ids (a subquery of the caller's), leaving out the settlements' own
    payments (SETTLEMENT_PAID entries): oldest first."""
    rows = await (
        Posting.filter(
            account__kind=AccountKind.MERCHANT_PAYABLE,
            account__owner_id=merchant_id,
            occurred_at__lt=before,
        )
        .exclude(entry__kind=EntryKind.SETTLEMENT_PAID)
        .exclude(id__in=settled)
        .order_by("occurred_at", "id")
        .values(*_FIELDS)
    )
    return [_read(row) for row in rows]


async def postings_of_entries(entry_ids: set[int]) -> list[PostingRead]:
    """Every posting of these entries."""
    if not entry_ids:
        return []
    rows = await Posting.filter(entry_id__in=sorted(entry_ids)).order_by("id").values(*_FIELDS)
    return [_read(row) for row in rows]


_FIELDS = (
    "id",
    "entry_id",
    "entry__key",
    "entry__kind",
    "account__kind",
    "account__owner_id",
    "amount",
    "order_id",
    "occurred_at",
)


def _read(row: dict) -> PostingRead:
    return PostingRead(
        id=row["id"],
        entry_id=row["entry_id"],
        entry_key=row["entry__key"],
        entry_kind=EntryKind(row["entry__kind"]),
        account_kind=AccountKind(row["account__kind"]),
        owner_id=row["account__owner_id"],
        amount=row["amount"],
        order_id=row["order_id"],
        occurred_at=row["occurred_at"],
    )
