"""Leaders' commissions: the reads finance and leaders open, and the earning job's scan.

    .venv/bin/python -m bench.leader_commissions [--leaders 50] [--per-leader 200]
                                                 [--database-url mysql://…]

Builds the schema in a database of its own (emptied first; SQLite in a temporary folder by
default), bulk-inserts `--leaders` × `--per-leader` pending commissions (of orders that do not
exist, so the job finds none due and the figure is its scan: pending rows, their orders' facts
and open requests, 500 orders a batch), then times once each: one leader's earnings, the
totals per leader, the first page of the finance list, and the job.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from tortoise import Tortoise

from commerce import clock
from commerce.community import commission_earning, commission_queries
from commerce.community.commission_models import LeaderCommission
from commerce.community.models import Leader
from commerce.db import insert_many, is_mysql, model_row, tortoise_config

BATCH = 1_000


async def prepare(database_url: str) -> None:
    await Tortoise.init(config=tortoise_config(database_url))
    if is_mysql(database_url):
        conn = Tortoise.get_connection("default")
        await conn.execute_script("SET FOREIGN_KEY_CHECKS = 0")
        for row in await conn.execute_query_dict("SHOW TABLES"):
            await conn.execute_script(f"DROP TABLE `{next(iter(row.values()))}`")
        await conn.execute_script("SET FOREIGN_KEY_CHECKS = 1")
    await Tortoise.generate_schemas(safe=False)


async def fill(leaders: int, per_leader: int) -> int:
    now = clock.now()
    for n in range(1, leaders + 1):
        await Leader.create(
            user_id=n, name=f"团长{n}", phone="13900139000", status="approved", pickup_point_id=n,
            share_code=f"code{n}", applied_at=now, updated_at=now,
        )  # fmt: skip
    rows = [
        model_row(
            LeaderCommission,
            {
                "order_id": o,
                "order_no": f"N{o}",
                "leader_id": o % leaders + 1,
                "leader_user_id": o % leaders + 1,
                "sale_id": 1,
                "basis": 10_000,
                "amount": 1_000,
                "status": "pending",
                "accrued_at": now,
                "updated_at": now,
            },
        )
        for o in range(1, leaders * per_leader + 1)
    ]
    for start in range(0, len(rows), BATCH):
        await insert_many("leader_commission", rows[start : start + BATCH])
    return len(rows)


async def timed(call) -> float:
    """Milliseconds one call took."""
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def measure(url: str, leaders: int, per_leader: int) -> tuple[int, dict[str, float]]:
    """How many commissions were made, and each read's milliseconds."""
    await prepare(url)
    try:
        count = await fill(leaders, per_leader)
        return count, {
            "one leader's earnings": await timed(lambda: commission_queries.earnings(user_id=1)),
            "totals per leader": await timed(commission_queries.totals_per_leader),
            "finance list, page 1": await timed(lambda: commission_queries.staff_list(page=1)),
            "earning job's scan": await timed(lambda: commission_earning.earn_due(window_days=7)),
        }
    finally:
        await Tortoise.close_connections()


async def main(args: argparse.Namespace) -> None:
    url = args.database_url or f"sqlite://{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    count, times = await measure(url, args.leaders, args.per_leader)
    print(f"{count} pending commissions of {args.leaders} leaders ({url.split('://')[0]})")
    for label, ms in times.items():
        print(f"{label}: {ms:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaders", type=int, default=50)
    parser.add_argument("--per-leader", type=int, default=200)
    parser.add_argument("--database-url", default="")
    asyncio.run(main(parser.parse_args()))
