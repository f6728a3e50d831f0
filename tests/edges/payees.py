"""Payees for edge tests: a shopper owed money in the books (a finance adjustment, until
leaders' and KOLs' commissions land there), withdrawing through the wallet API; and the books'
own checks after each path."""

from __future__ import annotations

import uuid

from commerce.ledger import services as ledger
from commerce.ledger.models import JournalEntry, LedgerAccount, Posting
from commerce.ledger.states import EntryKind
from tests.edges.shoppers import auth_headers


async def credit(user_id: int, amount: int) -> None:
    """What the payee is owed (a finance adjustment, until leaders' and KOLs' commissions)."""
    await ledger.record(
        key=f"adjustment:{uuid.uuid4()}",
        kind=EntryKind.ADJUSTMENT,
        lines=[
            ledger.Line(ledger.PLATFORM_ADJUSTMENTS, amount),
            ledger.Line(ledger.payee_payable(user_id), -amount),
        ],
        memo="测试入账",
    )


async def payee(client, simulator, user: str = "alice", owed: int = 5000) -> dict:
    headers = await auth_headers(client, simulator, user)
    user_id = (await (await client.get("/api/v1/me", headers=headers)).json())["user"]["id"]
    if owed:
        await credit(user_id, owed)
    return {"headers": headers, "user_id": user_id}


async def withdraw(client, who: dict, amount: int, *, key: str | None = None, real_name: str | None = None):
    body: dict = {"amount": amount}
    if real_name is not None:
        body["real_name"] = real_name
    headers = {**who["headers"], "Idempotency-Key": key or uuid.uuid4().hex}
    return await client.post("/api/v1/wallet/withdrawals", json=body, headers=headers)


async def wallet(client, who: dict) -> dict:
    response = await client.get("/api/v1/wallet", headers=who["headers"])
    assert response.status == 200, await response.text()
    return await response.json()


async def books_balance() -> None:
    """Every entry balances, the accounts sum to zero, running balances equal their postings."""
    for entry in await JournalEntry.all():
        assert sum(await Posting.filter(entry_id=entry.id).values_list("amount", flat=True)) == 0, entry.key
    for account in await LedgerAccount.all():
        postings = await Posting.filter(account_id=account.id).values_list("amount", flat=True)
        assert account.balance == sum(postings), account.code
    assert sum(await LedgerAccount.all().values_list("balance", flat=True)) == 0


async def entry_keys(payout_id: int) -> list[str]:
    """The ledger entries of a payout, by key."""
    return sorted(
        await JournalEntry.filter(key__startswith=f"payout:{payout_id}:").values_list("key", flat=True)
    )
