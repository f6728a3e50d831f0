"""KOL referral (推广): touches recorded per second over HTTP against a bare aiohttp handler in
the same run, and a KOL's funnel read with a million touches behind it.

    .venv/bin/python -m bench.referral [--touches 20000] [--shoppers 200] [--concurrency 32] \
        [--funnel-touches 1000000] [--database-url mysql://…] [--redis-url redis://…]

(a) Starts `shop serve` on the demo catalog (SQLite and the embedded Redis in a temporary
folder by default) and the bare handler; approves a KOL; signs `--shoppers` shoppers up (not
timed); then `--concurrency` connections send `--touches` POST /api/v1/referrals/touch, half
from anonymous visitors (each a visitor id of its own), half from the signed-in shoppers in
turn, on the link, mini-program-code and share channels. Each is answered 202 once it is in the
Redis buffer; the server's own flush job (every 2 s) writes them, and the run waits until every
touch is a row and the funnel's roll-ups count them all.

(b) Writes `--funnel-touches` touches of another KOL straight into referral_touch (multi-row
INSERTs), spread over 365 days and the five channels, with the matching referral_daily roll-ups;
then times the funnel the KOL and the platform read (commerce/referrals/funnel.kol_funnel, by
day and by channel, last 30 and 365 days: one indexed range of the unique (kol, day, channel)
key of the roll-ups) and, for contrast, the same figures (touches, follows, customers)
computed from the raw touches.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import os
import random
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

import aiohttp

from bench import orders
from bench.catalog import ROOT, SHOP, cpu_seconds, shop_and_bare
from bench.loadgen import Result, run
from bench.orders import reset_mysql, reset_redis

CHANNELS = ("link", "mp_code", "share", "qr_scan", "qr_follow")


async def _open(database_url: str) -> None:
    from tortoise import Tortoise

    from commerce.db import tortoise_config

    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def _close() -> None:
    from tortoise import Tortoise

    await Tortoise.close_connections()


async def make_kol(database_url: str, user_id: int, code: str) -> int:
    from commerce import clock
    from commerce.referrals.models import Kol, KolTier
    from commerce.referrals.states import KolStatus

    await _open(database_url)
    try:
        now = clock.now()
        tier = await KolTier.get_or_none(name="压测")
        if tier is None:
            tier = await KolTier.create(name="压测", rate_bps=500, created_at=now, updated_at=now)
        kol = await Kol.create(
            user_id=user_id,
            code=code,
            name=f"达人{code}",
            phone="13800138000",
            tier_id=tier.id,
            status=KolStatus.APPROVED,
            applied_at=now,
            reviewed_at=now,
            updated_at=now,
        )
        return kol.id
    finally:
        await _close()


async def signed_in(http: aiohttp.ClientSession, base: str, name: str) -> dict[str, str]:
    return await orders.signed_in(base, name)  # one connection per shopper: see there


async def written(database_url: str, kol_id: int) -> tuple[int, int]:
    """(touch rows, touches counted in the roll-ups) of the KOL."""
    from commerce.db import fetch_rows

    await _open(database_url)
    try:
        rows = await fetch_rows("SELECT COUNT(*) AS n FROM `referral_touch` WHERE `kol_id` = ?", [kol_id])
        daily = await fetch_rows(
            "SELECT COALESCE(SUM(`touches`), 0) AS n FROM `referral_daily` WHERE `kol_id` = ?", [kol_id]
        )
        return int(rows[0]["n"]), int(daily[0]["n"])
    finally:
        await _close()


@dataclasses.dataclass
class Touched:
    result: Result
    statuses: dict[int, int]
    cpu_ms_per_touch: float | None
    rows: int  # touch rows the flush job wrote
    daily: int  # touches counted in the roll-ups
    flushed_in: float  # seconds after the last answer


async def measure_touches(
    base: str, bare_url: str, database_url: str, touches: int, shoppers: int, concurrency: int
) -> str:
    touched = await record_touches(base, database_url, touches, shoppers, concurrency)
    result = touched.result
    await run("warmup", [bare_url], requests=500, concurrency=concurrency)
    bare = await run("bare", [bare_url], requests=result.requests, concurrency=concurrency)
    ordered = sorted(result.latencies_ms)
    rate = result.rps
    cpu = ""
    if touched.cpu_ms_per_touch is not None:
        cpu = f"; shop serve CPU {touched.cpu_ms_per_touch:.2f} ms per touch"
    return (
        f"touches: {len(ordered)} in {result.seconds:.1f} s = {rate:.0f} touches/s, "
        f"p50 {ordered[len(ordered) // 2]:.1f} ms, p99 {result.percentile(99):.1f} ms, "
        f"answers {touched.statuses}{cpu}\n"
        f"written by the flush job: {touched.rows} rows, {touched.daily} in the roll-ups, "
        f"{touched.flushed_in:.1f} s after the last answer\n"
        f"bare aiohttp handler: {bare.rps:.0f} req/s; touches reach {rate / bare.rps:.1%} of that"
    )


async def record_touches(
    base: str, database_url: str, touches: int, shoppers: int, concurrency: int
) -> Touched:
    """Send the touches (the first 200 as a warm-up, not timed) and wait until all are written."""
    kol_id = await make_kol(database_url, user_id=900_000_001, code="BENCHKOL")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        gate = asyncio.Semaphore(concurrency)

        async def sign(n: int) -> dict[str, str]:
            async with gate:
                return await signed_in(http, base, f"kolfan{n}")

        people = await asyncio.gather(*(sign(n) for n in range(shoppers)))
        bodies = []
        for n in range(touches):
            channel = ("link", "mp_code", "share")[n % 3]
            body = {"code": "BENCHKOL", "channel": channel, "path": f"pages/product/detail?id={n % 50}"}
            if channel == "share":
                body["sharer"] = 1 + n % 97
            if n % 2:
                bodies.append((body, people[n % shoppers]))
            else:
                bodies.append(({**body, "visitor": f"anon-{n}", "device": "iPhone 15"}, {}))
        for body, headers in bodies[:200]:  # warm up (counted in the rows, not in the timing)
            async with http.post(f"{base}/api/v1/referrals/touch", json=body, headers=headers) as r:
                assert r.status == 202, await r.text()
        timed = bodies[200:]
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        queue = iter(timed)

        async def worker() -> None:
            for body, headers in queue:
                started = time.perf_counter()
                async with http.post(f"{base}/api/v1/referrals/touch", json=body, headers=headers) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                latencies.append((time.perf_counter() - started) * 1000)

        started, cpu_before = time.perf_counter(), cpu_seconds("shop-serve")
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed, cpu_after = time.perf_counter() - started, cpu_seconds("shop-serve")
    flush_started = time.perf_counter()
    rows = daily = 0
    while time.perf_counter() - flush_started < 120:
        rows, daily = await written(database_url, kol_id)
        if rows >= touches and daily >= touches:
            break
        await asyncio.sleep(0.5)
    flushed_in = time.perf_counter() - flush_started
    cpu = None
    if cpu_before is not None and cpu_after is not None:
        cpu = (cpu_after - cpu_before) * 1000 / max(1, len(latencies))
    errors = sum(n for status, n in statuses.items() if status != 202)
    result = Result("touches", len(latencies), errors, elapsed, latencies)
    return Touched(result, statuses, cpu, rows, daily, flushed_in)


async def generate_million(database_url: str, kol_id: int, touches: int, *, today: date) -> float:
    """The KOL's touches over the last 365 days and their roll-ups; seconds it took."""
    from commerce.db import insert_many

    started = time.perf_counter()
    rng = random.Random(14)
    per_day = touches // 365
    rows: list[dict] = []
    daily: dict[tuple[date, str], list[int]] = {}
    chunk = 4000  # rows per INSERT: 8 columns stay under SQLite's 32,766 bound parameters
    for d in range(365):
        day = today - timedelta(days=d)
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=8)  # Shanghai
        n_today = per_day + (1 if d < touches - per_day * 365 else 0)
        for _ in range(n_today):
            channel = CHANNELS[rng.randrange(5)]
            user = rng.randrange(1, 200_000) if rng.random() < 0.4 else None
            at = midnight + timedelta(seconds=rng.randrange(86_400))
            rows.append(
                {
                    "kol_id": kol_id,
                    "channel": channel,
                    "user_id": user,
                    "visitor": "" if user else f"v{rng.randrange(10**9)}",
                    "ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
                    "device": "",
                    "path": "",
                    "at": at,
                }
            )
            counts = daily.setdefault((day, channel), [0, 0, 0])
            counts[0] += 1
            counts[1] += channel == "qr_follow"
            counts[2] += user is not None and rng.random() < 0.05
            if len(rows) >= chunk:
                await insert_many("referral_touch", rows)  # one statement: its own transaction
                rows = []
    if rows:
        await insert_many("referral_touch", rows)
    await insert_many(
        "referral_daily",
        [
            {
                "kol_id": kol_id,
                "day": day,
                "channel": channel,
                "touches": c[0],
                "follows": c[1],
                "customers": c[2],
                "orders": c[2] // 2,
                "paid_gmv": c[2] * 5000,
                "commission_pending": c[2] * 250,
                "commission_earned": 0,
                "commission_reversed": 0,
            }
            for (day, channel), c in daily.items()
        ],
    )
    return time.perf_counter() - started


async def timed(query, repeat: int = 7) -> tuple[float, object]:
    """Median milliseconds of `repeat` runs (after one warm-up run), and the last answer."""
    answer = await query()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = await query()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), answer


@dataclasses.dataclass
class FunnelRead:
    name: str
    rows: int
    ms: float  # median
    touches: int
    follows: int
    customers: int


async def measure_funnel(database_url: str, touches: int) -> str:
    generated, reads = await funnel_reads(database_url, touches)
    lines = [
        f"generated {touches:,} touches and their roll-ups in {generated:.0f} s",
        "| funnel read | rows | ms (median of 7) | touches | follows | customers |",
        "|---|---|---|---|---|---|",
    ]
    for r in reads:
        lines.append(
            f"| {r.name} | {r.rows} | {r.ms:.1f} | {r.touches:,} | {r.follows:,} | {r.customers:,} |"
        )
    lines.append(
        "(customers: the roll-ups count new customers as the touches made them; the raw query can"
        " only count distinct signed-in shoppers per day, and cannot say who was new)"
    )
    return "\n".join(lines)


async def funnel_reads(database_url: str, touches: int) -> tuple[float, list[FunnelRead]]:
    """Seconds the generation took, and each funnel read's median time and totals."""
    from commerce import clock
    from commerce.db import fetch_rows, is_mysql
    from commerce.referrals import funnel

    kol_id = await make_kol(database_url, user_id=900_000_002, code="MILLIONKOL")
    await _open(database_url)
    try:
        today = clock.to_shanghai(clock.now()).date()
        generated = await generate_million(database_url, kol_id, touches, today=today)
        if is_mysql(database_url):
            shanghai_day = "DATE(DATE_ADD(`at`, INTERVAL 8 HOUR))"
        else:
            shanghai_day = "date(`at`, '+8 hours')"
        reads = []
        for days in (30, 365):
            since = today - timedelta(days=days - 1)
            start = datetime(since.year, since.month, since.day, tzinfo=UTC) - timedelta(hours=8)

            async def rollup(since=since, by="day"):
                read = await funnel.kol_funnel(kol_id=kol_id, start=since, end=today, by=by)
                return [dataclasses.asdict(row.figures) for row in read.rows]

            async def raw(start=start):
                return await fetch_rows(
                    f"SELECT {shanghai_day} AS `day`, `channel`, COUNT(*) AS `touches`,"
                    " SUM(CASE WHEN `channel` = 'qr_follow' THEN 1 ELSE 0 END) AS `follows`,"
                    " COUNT(DISTINCT `user_id`) AS `customers`"
                    " FROM `referral_touch` WHERE `kol_id` = ? AND `at` >= ?"
                    " GROUP BY 1, `channel` ORDER BY 1, `channel`",
                    [kol_id, start],
                )

            for name, query in (
                (f"funnel by day, {days} days", rollup),
                (f"funnel by channel, {days} days", functools.partial(rollup, by="channel")),
                (f"raw touches, {days} days × channels", raw),
            ):
                ms, answer = await timed(query, repeat=7 if "funnel" in name else 3)
                total = [sum(int(r[k]) for r in answer) for k in ("touches", "follows", "customers")]
                reads.append(FunnelRead(name, len(answer), ms, *total))
        return generated, reads
    finally:
        await _close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--touches", type=int, default=20_000)
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--funnel-touches", type=int, default=1_000_000)
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
        where = args.database_url.split("@")[-1] if args.database_url else "SQLite"
        redis_where = "Redis " + args.redis_url.split("@")[-1] if args.redis_url else "the embedded Redis"
        with shop_and_bare(env) as (base, bare_url):
            print(
                f"KOL touches benchmark on {where} and {redis_where}: {args.touches} touches"
                f" (half anonymous, half from {args.shoppers} signed-in shoppers),"
                f" concurrency {args.concurrency}"
            )
            print(
                asyncio.run(
                    measure_touches(
                        base, bare_url, database_url, args.touches, args.shoppers, args.concurrency
                    )
                )
            )
        if args.funnel_touches:
            print(f"\nFunnel of one KOL with {args.funnel_touches:,} touches on {where}:")
            print(asyncio.run(measure_funnel(database_url, args.funnel_touches)))


if __name__ == "__main__":
    main()
