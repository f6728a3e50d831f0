"""How long issuing a merchant's statement takes for a period with many postings.

    .venv/bin/python -m bench.statements [--postings 5000] [--database-url mysql://root:@127.0.0.1:3306/bench]

Posts `--postings` credits of one merchant to the books (commerce.ledger.services.record, a
transaction each, as the ledger's subscribers post), then runs the issuing job once and times
it: reading the unsettled postings and their entries, and writing the statement with one item
per posting. Postings of no order skip the orders' and after-sales' reads (one query per 1,000
orders each). The database is emptied first (a MariaDB one is dropped table by table); the
default is a SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from tortoise import Tortoise

from bench.orders import reset_mysql
from commerce import clock
from commerce.db import tortoise_config
from commerce.ledger import services as ledger
from commerce.ledger.states import EntryKind
from commerce.merchants.services import ensure_merchant
from commerce.settlement import services
from commerce.settlement.models import Statement


async def run(database_url: str, postings: int) -> None:
    posting_seconds, issuing_seconds = await issue(database_url, postings)
    print(f"posted {postings} entries in {posting_seconds:.1f} s ({postings / posting_seconds:.0f}/s)")
    took = issuing_seconds
    print(f"issued a statement of {postings} items in {took:.2f} s ({postings / took:.0f} items/s)")


async def issue(database_url: str, postings: int) -> tuple[float, float]:
    """Seconds posting the credits took, and seconds issuing their statement took."""
    if database_url.startswith("mysql://"):
        await reset_mysql(database_url)
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    await Tortoise.generate_schemas(safe=True)
    try:
        merchant = await ensure_merchant(code="bench", name="压测商家")
        at = clock.now() - timedelta(days=2)
        started = time.perf_counter()
        for n in range(postings):
            await ledger.record(
                key=f"adjustment:bench-{n}",
                kind=EntryKind.ADJUSTMENT,
                lines=[
                    ledger.Line(ledger.PLATFORM_ADJUSTMENTS, 100),
                    ledger.Line(ledger.merchant_payable(merchant), -100),
                ],
                occurred_at=at,
            )
        posted = time.perf_counter()
        issued = await services.issue_statements(period="daily", window_days=7)
        done = time.perf_counter()
        statement = await Statement.get(id=issued[0])
        assert statement.item_count == postings and statement.owed == 100 * postings
        return posted - started, done - posted
    finally:
        await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postings", type=int, default=5000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite://{Path(folder) / 'bench.sqlite3'}"
        asyncio.run(run(url, args.postings))


if __name__ == "__main__":
    main()
