"""The books: postings per second for payment events, and the nightly balance check's time.

    .venv/bin/python -m bench.ledger [--payments 2000] [--concurrency 16] [--entries 1000000]
                                     [--database-url mysql://…]

Builds the schema in a database of its own (emptied first; SQLite in a temporary folder by
default), then:

1. posts `--payments` PAYMENT entries, `--concurrency` at a time, through the subscriber's
   posting function (each a checkout of one or two orders of 20 merchants: four postings an
   order, its reversal rows, and the running balances, in one transaction); then, as the
   baseline of the same run, as many bare transactions inserting the same rows (the entry and
   its postings) with no key check, reversal rows or running balances;
2. bulk-inserts `--entries` more entries (two postings each, over 1,000 merchants' payables,
   running balances set to match) and times the balance check over everything.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from commerce.db import execute, fetch_rows, insert, insert_many, is_mysql, tortoise_config
from commerce.ledger import checks, handlers
from commerce.ledger.services import CLEARING, ensure_accounts, merchant_payable
from commerce.orders.queries import ChargedLine, ChargedOrder

BATCH = 5_000


async def prepare(database_url: str) -> None:
    await Tortoise.init(config=tortoise_config(database_url))
    if is_mysql(database_url):
        conn = Tortoise.get_connection("default")
        await conn.execute_script("SET FOREIGN_KEY_CHECKS = 0")
        for row in await conn.execute_query_dict("SHOW TABLES"):
            await conn.execute_script(f"DROP TABLE `{next(iter(row.values()))}`")
        await conn.execute_script("SET FOREIGN_KEY_CHECKS = 1")
    await Tortoise.generate_schemas(safe=False)


@dataclass
class Posted:
    payments: int
    postings: int
    seconds: float
    concurrency: int

    @property
    def rate(self) -> float:
        return self.payments / self.seconds

    def __str__(self) -> str:
        return (
            f"payment entries: {self.payments} in {self.seconds:.2f} s = {self.rate:.0f} entries/s,"
            f" {self.postings / self.seconds:.0f} postings/s (concurrency {self.concurrency})"
        )


async def post_payments(payments: int, concurrency: int) -> Posted:
    ids = itertools.count(1)
    rng = random.Random(7)
    await ensure_accounts([CLEARING, handlers.PLATFORM_COMMISSION, handlers.PAYMENT_FEES])
    await ensure_accounts(merchant_payable(m) for m in range(1, 21))
    gate = asyncio.Semaphore(concurrency)
    postings = 0

    def order() -> ChargedOrder:
        lines = [
            ChargedLine(next(ids), rng.randint(100, 50_000), rng.choice([300, 500, 800])) for _ in range(2)
        ]
        order_id = next(ids)
        payable = sum(line.payable for line in lines) + 1_000
        return ChargedOrder(order_id, f"B{order_id}", rng.randint(1, 20), payable, 60, lines)

    async def one(n: int) -> None:
        nonlocal postings
        paid = [order() for _ in range(rng.randint(1, 2))]
        async with gate:
            await handlers.post_charged_payment(key=f"payment:{n}", paid=paid, returned=[], paid_at=None)
        postings += 4 * len(paid)

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(payments)))
    return Posted(payments, postings, time.perf_counter() - started, concurrency)


async def post_bare(payments: int, concurrency: int) -> float:
    """The baseline: the same entries and postings inserted, nothing else; entries per second."""
    codes = [CLEARING, handlers.PLATFORM_COMMISSION, handlers.PAYMENT_FEES, merchant_payable(1)]
    accounts = list((await ensure_accounts(codes)).values())
    rng = random.Random(7)
    gate = asyncio.Semaphore(concurrency)
    at = datetime.now(UTC)

    async def one(n: int) -> None:
        orders = rng.randint(1, 2)
        async with gate, in_transaction() as conn:
            entry = await insert(
                "journal_entry",
                {"key": f"bare:{n}", "kind": "payment", "memo": "", "actor": "system", "detail": {},
                 "occurred_at": at, "created_at": at},
                connection=conn,
            )  # fmt: skip
            await insert_many(
                "ledger_posting",
                [
                    {"entry_id": entry, "account_id": account, "amount": 1 if i else -3, "order_id": n,
                     "occurred_at": at}
                    for _ in range(orders)
                    for i, account in enumerate(accounts)
                ],
                connection=conn,
            )  # fmt: skip

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(payments)))
    return payments / (time.perf_counter() - started)


async def bulk_entries(entries: int) -> None:
    """`entries` two-posting entries inserted in batches, balances set to their sums."""
    accounts = await ensure_accounts([CLEARING, *(merchant_payable(m) for m in range(1, 1_001))])
    clearing = accounts[CLEARING.code]
    payables = [i for code, i in accounts.items() if code != CLEARING.code]
    at = datetime.now(UTC)
    rng = random.Random(11)
    first = (
        int((await fetch_rows("SELECT COALESCE(MAX(`id`), 0) AS `n` FROM `journal_entry`", []))[0]["n"]) + 1
    )
    for start in range(0, entries, BATCH):
        count = min(BATCH, entries - start)
        ids = range(first + start, first + start + count)
        await insert_many(
            "journal_entry",
            [
                {"id": i, "key": f"bulk:{i}", "kind": "payment", "memo": "", "actor": "system",
                 "detail": {}, "occurred_at": at, "created_at": at}
                for i in ids
            ],
        )  # fmt: skip
        rows = []
        for i in ids:
            amount = rng.randint(1, 100_000)
            rows += [
                {"entry_id": i, "account_id": clearing, "amount": amount, "order_id": None,
                 "occurred_at": at},
                {"entry_id": i, "account_id": rng.choice(payables), "amount": -amount, "order_id": None,
                 "occurred_at": at},
            ]  # fmt: skip
        await insert_many("ledger_posting", rows)
    await execute(
        "UPDATE `ledger_account` SET `balance` = COALESCE((SELECT SUM(p.`amount`) FROM `ledger_posting` p"
        " WHERE p.`account_id` = `ledger_account`.`id`), 0)",
        [],
    )


@dataclass
class LedgerRun:
    posted: Posted
    bare_rate: float  # the same rows inserted bare, entries/s
    bulk_seconds: float
    check: object  # the balance check's view: accounts, entries, differences, duration_ms


async def measure(database_url: str, payments: int, concurrency: int, entries: int) -> None:
    measured = await measure_results(database_url, payments, concurrency, entries)
    print(measured.posted)
    print(f"baseline, the same rows inserted bare: {measured.bare_rate:.0f} entries/s")
    print(f"bulk insert of {entries} entries: {measured.bulk_seconds:.1f} s")
    check = measured.check
    print(
        f"balance check: {check.accounts} accounts, {check.entries} entries,"
        f" {len(check.differences)} differences, {check.duration_ms} ms"
    )


async def measure_results(database_url: str, payments: int, concurrency: int, entries: int) -> LedgerRun:
    await prepare(database_url)
    try:
        posted = await post_payments(payments, concurrency)
        bare = await post_bare(payments, concurrency)
        started = time.perf_counter()
        await bulk_entries(entries)
        bulk_seconds = time.perf_counter() - started
        return LedgerRun(posted, bare, bulk_seconds, await checks.check_balances())
    finally:
        await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--payments", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--database-url", default="", help="a MySQL database of its own: emptied first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite://{Path(folder) / 'bench.sqlite3'}"
        print(f"ledger benchmark on {url.split('@')[-1]}")
        asyncio.run(measure(url, args.payments, args.concurrency, args.entries))


if __name__ == "__main__":
    main()
