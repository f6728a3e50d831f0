"""拼团 joins over HTTP on a hot group deal (many shoppers, few seats), against a bare aiohttp
handler in the same run.

    .venv/bin/python -m bench.groupbuy [--shoppers 600] [--size 5] [--concurrency 32] \
        [--database-url mysql://…] [--redis-url redis://…]

Starts `shop serve` on the demo catalog (SQLite in a temporary folder by default) and the bare
handler; makes a deal for groups of `--size` on an in-stock SKU and a group opened by one
shopper; signs the shoppers up (not timed); then has `--concurrency` connections send every
shopper's join of that one group at once (an order with the group choice). The first size-1
joiners hold its seats; every later one finds it full and gets a new group of the deal opened
for them. Afterwards it checks from the database that no group holds more than its size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import aiohttp

from bench.catalog import ROOT, SHOP, cpu_seconds, shop_and_bare
from bench.loadgen import Result, run
from bench.orders import ADDRESS, in_stock_skus, reset_mysql, reset_redis, signed_in


async def signed_up(http: aiohttp.ClientSession, base: str, name: str) -> dict:
    headers = await signed_in(base, name)
    async with http.post(f"{base}/api/v1/addresses", json=ADDRESS, headers=headers) as response:
        return {"headers": headers, "address_id": (await response.json())["id"]}


async def join(
    http: aiohttp.ClientSession, base: str, shopper: dict, deal: dict, group_id: int | None
) -> dict:
    body = {
        "items": [{"sku_id": deal["sku_id"], "quantity": 1}],
        "address_id": shopper["address_id"],
        "group": {"deal_id": deal["deal_id"], "group_id": group_id},
    }
    headers = {**shopper["headers"], "Idempotency-Key": uuid.uuid4().hex}
    async with http.post(f"{base}/api/v1/orders", json=body, headers=headers) as response:
        return {**(await response.json()), "http_status": response.status}


async def make_deal(database_url: str, sku_id: int, size: int) -> int:
    """The deal, written through the service on the benchmark's database."""
    from tortoise import Tortoise

    from commerce import clock
    from commerce.catalog.models import Sku
    from commerce.db import tortoise_config
    from commerce.groupbuy import deals

    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        await Sku.filter(id=sku_id).update(stock=100_000)  # stock is not what is measured here
        return await deals.create_deal(
            deal=deals.DealInput(
                title="压测拼团",
                prices={sku_id: 100},
                group_size=size,
                time_limit_minutes=60,
                per_shopper_limit=1,
                starts_at=clock.now() - timedelta(minutes=1),
                ends_at=clock.now() + timedelta(days=1),
            ),
            merchant_id=None,
        )
    finally:
        await Tortoise.close_connections()


async def groups_over_size(database_url: str, deal_id: int) -> tuple[int, int, int]:
    """(groups of the deal, groups holding more than their size, live seats in all)."""
    from tortoise import Tortoise

    from commerce.db import tortoise_config
    from commerce.groupbuy.models import Group, GroupSeat

    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        groups = await Group.filter(deal_id=deal_id)
        over = 0
        for group in groups:
            live = await GroupSeat.filter(group_id=group.id, status__in=("held", "paid")).count()
            over += live > group.size or group.taken > group.size or live != group.taken
        seats = await GroupSeat.filter(group__deal_id=deal_id, status__in=("held", "paid")).count()
        return len(groups), over, seats
    finally:
        await Tortoise.close_connections()


@dataclass
class Joined:
    result: Result
    statuses: dict[int | str, int]
    cpu_ms_per_join: float | None
    groups: int  # groups of the deal
    over: int  # groups over their size or miscounted: must be 0
    seats: int  # live seats in all


async def measure(
    base: str, bare_url: str, database_url: str, shoppers: int, size: int, concurrency: int
) -> str:
    joined = await joins(base, database_url, shoppers, size, concurrency)
    bare = await run("bare", [bare_url], requests=shoppers, concurrency=concurrency)
    result = joined.result
    ordered = sorted(result.latencies_ms)
    rate = result.rps
    cpu = ""
    if joined.cpu_ms_per_join is not None:
        cpu = f"; shop serve CPU {joined.cpu_ms_per_join:.2f} ms per join"
    return (
        f"joins of one group of {size}: {len(ordered)} in {result.seconds:.1f} s = {rate:.0f} joins/s, "
        f"p50 {ordered[len(ordered) // 2]:.1f} ms, p99 {result.percentile(99):.1f} ms, "
        f"answers {joined.statuses}{cpu}\n"
        f"groups of the deal: {joined.groups}, live seats {joined.seats}, groups over their size or "
        f"miscounted: {joined.over}\n"
        f"bare aiohttp handler: {bare.rps:.0f} req/s; joins reach {rate / bare.rps:.1%} of that"
    )


async def joins(base: str, database_url: str, shoppers: int, size: int, concurrency: int) -> Joined:
    async with aiohttp.ClientSession() as http:
        sku_id = (await in_stock_skus(http, base))[0]
        deal = {"deal_id": await make_deal(database_url, sku_id, size), "sku_id": sku_id}
        gate = asyncio.Semaphore(concurrency)

        async def one(n: int) -> dict:
            async with gate:
                return await signed_up(http, base, f"gb{n}")

        people = await asyncio.gather(*(one(n) for n in range(shoppers + 1)))
        opened = await join(http, base, people[0], deal, None)
        assert opened["http_status"] == 201, opened
        async with http.get(f"{base}/api/v1/orders/{opened['id']}", headers=people[0]["headers"]) as r:
            await r.read()
        group_id = await first_group(database_url, deal["deal_id"])
        latencies: list[float] = []
        statuses: dict[int | str, int] = {}

        async def joining(shopper: dict) -> None:
            async with gate:
                started = time.perf_counter()
                answer = await join(http, base, shopper, deal, group_id)
                latencies.append((time.perf_counter() - started) * 1000)
                key = answer["http_status"] if answer["http_status"] == 201 else answer["error"]["code"]
                statuses[key] = statuses.get(key, 0) + 1

        started, cpu_before = time.perf_counter(), cpu_seconds("shop-serve")
        await asyncio.gather(*(joining(s) for s in people[1:]))
        elapsed, cpu_after = time.perf_counter() - started, cpu_seconds("shop-serve")
    groups, over, seats = await groups_over_size(database_url, deal["deal_id"])
    cpu = None
    if cpu_before is not None and cpu_after is not None:
        cpu = (cpu_after - cpu_before) * 1000 / max(1, len(latencies))
    errors = sum(n for key, n in statuses.items() if key != 201)
    return Joined(
        Result("joins", len(latencies), errors, elapsed, latencies), statuses, cpu, groups, over, seats
    )


async def first_group(database_url: str, deal_id: int) -> int:
    from tortoise import Tortoise

    from commerce.db import tortoise_config
    from commerce.groupbuy.models import Group

    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        return (await Group.filter(deal_id=deal_id).order_by("id").first()).id
    finally:
        await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shoppers", type=int, default=600)
    parser.add_argument("--size", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default="", help="a MySQL database of its own: emptied first")
    parser.add_argument("--redis-url", default="", help="a Redis database of its own: emptied first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "SHOP_DATA_DIR": data_dir,
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "WECHAT_MODE": "simulator",
            "LOG_LEVEL": "WARNING",
        }
        if args.database_url.startswith("mysql://"):
            asyncio.run(reset_mysql(args.database_url))
        if args.redis_url:
            asyncio.run(reset_redis(args.redis_url))
        subprocess.run([SHOP, "migrate"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([SHOP, "seed-demo"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        database_url = args.database_url or f"sqlite://{data_dir}/shop.sqlite3"
        with shop_and_bare(env) as (base, bare_url):
            where = args.database_url.split("@")[-1] if args.database_url else "SQLite"
            print(
                f"拼团 benchmark on {where}: {args.shoppers} shoppers join one group,"
                f" concurrency {args.concurrency}"
            )
            print(
                asyncio.run(measure(base, bare_url, database_url, args.shoppers, args.size, args.concurrency))
            )


if __name__ == "__main__":
    main()
