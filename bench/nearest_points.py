"""The nearest leaders' points: the indexed bounding box's time per query, and its plan.

    .venv/bin/python -m bench.nearest_points [--points 20000] [--queries 500] [--database-url mysql://…]

Builds the schema in a database of its own (emptied first; SQLite in a temporary folder by
default), bulk-inserts `--points` open leaders' points (approved leaders) scattered over a
60 km × 60 km city (Shenzhen's bounds, roughly) and `--queries` random shoppers' locations in
it, then times `community.points.nearest_points` (limit 10) and prints the database's plan of
the box query (MariaDB: EXPLAIN; SQLite: EXPLAIN QUERY PLAN)."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tortoise import Tortoise

from commerce.community.points import nearest_points
from commerce.db import fetch_rows, insert_many, is_mysql, tortoise_config

SOUTH, NORTH, WEST, EAST = 22.45, 22.99, 113.75, 114.40
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


async def seed(points: int, rng: random.Random) -> None:
    now = datetime.now(UTC)
    for start in range(1, points + 1, BATCH):
        ids = range(start, min(start + BATCH, points + 1))
        await insert_many(
            "pickup_point",
            [
                {
                    "id": n,
                    "name": f"自提点{n}",
                    "address": f"某街道 {n} 号",
                    "opening_hours": "9:00-21:00",
                    "contact_phone": "",
                    "merchant_id": None,
                    "latitude": rng.uniform(SOUTH, NORTH),
                    "longitude": rng.uniform(WEST, EAST),
                    "active": rng.random() > 0.1,  # a tenth closed
                    "created_at": now,
                }
                for n in ids
            ],
        )
        await insert_many(
            "community_leader",
            [
                {
                    "id": n,
                    "user_id": n,
                    "name": f"团长{n}",
                    "phone": "13800138000",
                    "status": "approved",
                    "reason": "",
                    "pickup_point_id": n,
                    "photo": "",
                    "share_code": f"B{n:07d}",
                    "applied_at": now,
                    "reviewed_at": now,
                    "reviewed_by": "bench",
                    "updated_at": now,
                }
                for n in ids
            ],
        )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite://{Path(folder) / 'bench.sqlite3'}"
        await prepare(url)
        rng = random.Random(13)
        await seed(args.points, rng)
        times, found = [], []
        for _ in range(args.queries):
            lat, lng = rng.uniform(SOUTH + 0.05, NORTH - 0.05), rng.uniform(WEST + 0.05, EAST - 0.05)
            started = time.perf_counter()
            near = await nearest_points(latitude=lat, longitude=lng, limit=10)
            times.append((time.perf_counter() - started) * 1000)
            found.append(near[-1].distance_m if near else 0)
        times.sort()
        print(
            f"{args.points} points, {args.queries} queries (limit 10):"
            f" median {statistics.median(times):.2f} ms,"
            f" p95 {times[int(len(times) * 0.95)]:.2f} ms, max {times[-1]:.2f} ms;"
            f" the 10th point at a median {statistics.median(found):.0f} m"
        )
        box = (
            "SELECT id FROM pickup_point WHERE active = 1"
            " AND latitude BETWEEN 22.70 AND 22.73 AND longitude BETWEEN 114.0 AND 114.03"
        )
        explain = "EXPLAIN " if is_mysql(url) else "EXPLAIN QUERY PLAN "
        for row in await fetch_rows(explain + box, []):
            print(dict(row))
        await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main())
