"""Every benchmark in one run, each HTTP one against the bare aiohttp handler of the same run,
with one and with two `shop serve` workers; prints the README's performance table.

    .venv/bin/python -m bench [--quick] [--workers 1,2] [--database-url mysql://…] [--redis-url redis://…]

HTTP benchmarks (`shop serve` and the bare handler each in their own process, the load generator
in this one): catalog listing, detail and search on the demo catalog; search on a generated
catalog of `--skus` SKUs; the official-account webhook; admin pages (one request at a time);
order placement (preview + create); 拼团 joins of one hot group; KOL touches. Then, in this
process on the same database: the ledger, a merchant's statement, leaders' commissions, a KOL's
funnel over `--funnel-touches` touches, and search quality (hit@5).

The database and the Redis database given are emptied first, as each script does. Two workers
need `shop serve --workers` and a real Redis: where the command refuses them, their rows are
skipped with the command's own reason. These machines are shared and noisy: read the ratios of
one run, not absolute rates across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

from bench import (
    admin_pages,
    bot,
    catalog,
    groupbuy,
    leader_commissions,
    ledger,
    orders,
    referral,
    statements,
)
from bench.loadgen import Result, run

CONCURRENCY = 32
BOT_SENDERS = 50


@dataclass(frozen=True)
class Sizes:
    requests: int = 3000  # per catalog endpoint
    skus: int = 100_000  # the generated catalog searched over HTTP
    search_requests: int = 3000
    bot_messages: int = 3000
    admin_requests: int = 50  # per admin page, one at a time
    admin_orders: int = 300
    orders: int = 1000
    group_shoppers: int = 600
    touches: int = 20_000
    touch_shoppers: int = 200
    ledger_payments: int = 2000
    ledger_entries: int = 100_000
    statement_postings: int = 5000
    leaders: int = 50
    per_leader: int = 200
    funnel_touches: int = 1_000_000


QUICK = Sizes(
    requests=300,
    skus=2000,
    search_requests=300,
    bot_messages=200,
    admin_requests=3,
    admin_orders=20,
    orders=100,
    group_shoppers=40,
    touches=600,
    touch_shoppers=20,
    ledger_payments=100,
    ledger_entries=2000,
    statement_postings=200,
    leaders=5,
    per_leader=20,
    funnel_touches=5000,
)


@dataclass
class Row:
    """One HTTP benchmark with one worker count, and the bare handler measured beside it."""

    benchmark: str
    workers: int
    rate: float  # what the benchmark counts per second (requests, orders, joins…)
    p50: float
    p99: float
    bare_rate: float  # bare requests per second, same concurrency, right after
    ratio: float  # rate against the bare handler's (orders: against its request pairs)
    rss_mib: float | None  # memory per worker, read after the benchmark
    errors: int


@dataclass
class Figure:
    benchmark: str
    figure: str
    value: str


@dataclass
class Report:
    header: str
    rows: list[Row] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Refused(Exception):
    """`shop serve` exited while starting (an option it does not know, or one it refuses)."""


_STARTED = time.monotonic()


def log(message: str) -> None:
    """Progress on stderr, with the seconds since the start: the table alone goes to stdout."""
    print(f"[{time.monotonic() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


# -- memory -------------------------------------------------------------------------------------


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def rss_per_worker_mib(pid: int) -> float | None:
    """Resident memory of one `shop serve` worker: the mean of the process's children where it
    has any (a supervisor of workers), else the process's own."""
    try:
        import psutil  # not a dependency: used where installed
    except ImportError:
        children = _children(pid)
        sizes = [_rss_kib(p) for p in children] if children else [_rss_kib(pid)]
        sizes = [s for s in sizes if s is not None]
        return statistics.mean(sizes) / 1024 if sizes else None
    try:
        proc = psutil.Process(pid)
        procs = proc.children() or [proc]
        return statistics.mean(p.memory_info().rss for p in procs) / 2**20
    except psutil.Error:
        return None


# -- servers ------------------------------------------------------------------------------------


def shop_env(data_dir: str, database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "SHOP_DATA_DIR": data_dir,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WECHAT_MODE": "simulator",
        "LOG_LEVEL": "WARNING",
        "WECHAT_MP_AES_KEY": "",  # the bot's pushes are plaintext (no safe mode)
    }


def shop(env: dict[str, str], *command: str) -> None:
    subprocess.run([catalog.SHOP, *command], env=env, cwd=catalog.ROOT, check=True, stdout=subprocess.DEVNULL)


def empty(database_url: str, redis_url: str) -> None:
    if database_url.startswith("mysql://"):
        asyncio.run(orders.reset_mysql(database_url))
    if redis_url:
        asyncio.run(orders.reset_redis(redis_url))


async def _up(proc: subprocess.Popen, url: str, name: str, within: float = 120) -> None:
    """Wait until `url` answers; a server that exits first was refused (its log says why)."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while True:
            if proc.poll() is not None:
                lines = (catalog.LOGS / f"{name}.log").read_text(errors="replace").strip().splitlines()
                raise Refused(lines[-1] if lines else f"exit status {proc.returncode}")
            try:
                async with http.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up")
            await asyncio.sleep(0.2)


@contextmanager
def serving(env: dict[str, str], workers: int) -> Iterator[tuple[str, str, int]]:
    """(shop base URL, bare handler URL, shop serve's process id), both up and answering."""
    shop_port, bare_port = catalog.free_port(), catalog.free_port()
    bare_command = [sys.executable, "-m", "bench.bare_server", "--port", str(bare_port)]
    with (
        catalog.process(catalog.serve_command(shop_port, workers), env, name="shop-serve") as proc,
        catalog.process(bare_command, env, name="bare") as bare,
    ):
        base, bare_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{bare_port}/bare"
        asyncio.run(_up(proc, f"{base}/api/v1/categories", "shop-serve"))
        asyncio.run(_up(bare, bare_url, "bare"))
        yield base, bare_url, proc.pid


# -- the HTTP benchmarks ------------------------------------------------------------------------


def row(name: str, workers: int, measured: Result, bare: Result, pid: int, *, per_bare: float = 1) -> Row:
    """`per_bare`: bare requests one counted unit stands for (an order is two requests)."""
    return Row(
        name,
        workers,
        measured.rps,
        measured.percentile(50),
        measured.percentile(99),
        bare.rps,
        measured.rps / (bare.rps / per_bare),
        rss_per_worker_mib(pid),
        measured.errors,
    )


def sequential(name: str, latencies_ms: list[float], errors: int = 0) -> Result:
    """One request at a time: the rate is one over the mean round trip."""
    return Result(name, len(latencies_ms), errors, sum(latencies_ms) / 1000, latencies_ms)


async def demo_catalog_rows(
    base: str, bare_url: str, pid: int, database_url: str, workers: int, sizes: Sizes
) -> list[Row]:
    """Everything that runs on the demo catalog, in an order where no benchmark's writes change
    what a later one reads more than a shop's own traffic would."""
    rows: list[Row] = []
    log(f"  catalog ({workers} worker(s))")
    cat = await catalog.measure_results(base, bare_url, sizes.requests, CONCURRENCY)
    names = ["catalog: GET /products (list)", "catalog: GET /products/{id}", "catalog: search (?q=)"]
    rows += [row(n, workers, r, cat.bare, pid) for n, r in zip(names, cat.results, strict=True)]

    log("  bot webhook")
    await bot.level(base, 200, 10, False)  # warm up: search index, caches, connections
    seconds, latencies, failures = await bot.level(base, sizes.bot_messages, BOT_SENDERS, False)
    bare = await run("bare", [bare_url], requests=sizes.bot_messages, concurrency=BOT_SENDERS)
    messages = Result("bot", len(latencies), failures, seconds, latencies)
    rows.append(row(f"bot: search messages, {BOT_SENDERS} senders", workers, messages, bare, pid))

    log("  admin pages")
    pages, bare_trips = await admin_pages.page_times(base, bare_url, sizes.admin_requests, sizes.admin_orders)
    trips = [ms for page in pages for ms in page.round_trip_ms]
    admin = sequential("admin", trips, sum(page.errors for page in pages))
    rows.append(
        row(f"admin: {len(pages)} pages, one at a time", workers, admin, sequential("bare", bare_trips), pid)
    )

    log("  orders")
    placed = await orders.place(base, sizes.orders, CONCURRENCY)
    bare = await run("bare", [bare_url], requests=sizes.orders * 2, concurrency=CONCURRENCY)
    rows.append(row("orders: preview + create", workers, placed.result, bare, pid, per_bare=2))

    log("  拼团 joins")
    joined = await groupbuy.joins(base, database_url, sizes.group_shoppers, 5, CONCURRENCY)
    bare = await run("bare", [bare_url], requests=sizes.group_shoppers, concurrency=CONCURRENCY)
    if joined.over:
        joined.result.errors += joined.over  # a group over its size is a wrong answer
    rows.append(row("拼团: joins of one hot group of 5", workers, joined.result, bare, pid))

    log("  KOL touches")
    touched = await referral.record_touches(
        base, database_url, sizes.touches, sizes.touch_shoppers, CONCURRENCY
    )
    bare = await run("bare", [bare_url], requests=touched.result.requests, concurrency=CONCURRENCY)
    result = touched.result
    if touched.rows < sizes.touches:
        result = replace(result, errors=result.errors + sizes.touches - touched.rows)  # never written
    rows.append(row("KOL: touches recorded", workers, result, bare, pid))
    return rows


async def big_catalog_row(base: str, bare_url: str, pid: int, workers: int, sizes: Sizes) -> Row:
    urls = [f"{base}/api/v1/products?q={urllib.parse.quote(q)}" for q in catalog.QUERIES]
    await run("warmup", urls, requests=200, concurrency=CONCURRENCY)
    await run("warmup", [bare_url], requests=200, concurrency=CONCURRENCY)
    bare = await run("bare", [bare_url], requests=sizes.search_requests, concurrency=CONCURRENCY)
    searched = await run("search", urls, requests=sizes.search_requests, concurrency=CONCURRENCY)
    return row(f"search: {sizes.skus:,} SKUs (?q=)", workers, searched, bare, pid)


def http_rows(
    report: Report, database_url: str, redis_url: str, worker_counts: list[int], sizes: Sizes
) -> None:
    served: list[int] = []
    for workers in worker_counts:
        empty(database_url, redis_url)
        with tempfile.TemporaryDirectory() as data_dir:
            env = shop_env(data_dir, database_url, redis_url)
            url = database_url or f"sqlite://{data_dir}/shop.sqlite3"
            for command in (
                ["migrate"],
                ["seed-demo"],
                ["create-admin", admin_pages.ADMIN, "--password", admin_pages.PASSWORD],
            ):
                shop(env, *command)
            log(f"demo catalog, {workers} worker(s)")
            try:
                with serving(env, workers) as (base, bare_url, pid):
                    report.rows += asyncio.run(demo_catalog_rows(base, bare_url, pid, url, workers, sizes))
            except Refused as refused:
                report.notes.append(
                    f"{workers} workers skipped: `shop serve --workers {workers}` said: {refused}"
                )
                continue
            served.append(workers)
    if not served:
        return
    empty(database_url, redis_url)
    with tempfile.TemporaryDirectory() as data_dir:
        env = shop_env(data_dir, database_url, redis_url)
        shop(env, "migrate")
        log(f"generating {sizes.skus:,} SKUs")
        asyncio.run(catalog.generate_catalog(database_url or f"sqlite://{data_dir}/shop.sqlite3", sizes.skus))
        for workers in served:
            log(f"{sizes.skus:,} SKUs, {workers} worker(s)")
            with serving(env, workers) as (base, bare_url, pid):
                report.rows.append(asyncio.run(big_catalog_row(base, bare_url, pid, workers, sizes)))


# -- the in-process benchmarks ------------------------------------------------------------------


@contextmanager
def database(database_url: str) -> Iterator[str]:
    """The database a benchmark empties and fills: the one given, else a new SQLite file."""
    if database_url:
        yield database_url
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite://{Path(folder) / 'bench.sqlite3'}"


def search_quality_figures() -> list[Figure]:
    """hit@5 on the demo catalog, in a process of its own: Tortoise keeps a little of the last
    database it opened in a process, and this one is always SQLite whatever the others are."""
    log("search quality")
    code = (
        "import asyncio, json; from bench import search_quality; "
        "print(json.dumps(asyncio.run(search_quality.overall_rates(['tuning', 'heldout']))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=catalog.ROOT, check=True, capture_output=True, text=True
    )
    rates = json.loads(done.stdout.strip().splitlines()[-1])
    return [
        Figure("search quality", f"hit@5, {name} ({total} queries), %", f"{100 * hits / total:.1f}")
        for name, (hits, total) in rates.items()
    ]


def other_figures(report: Report, database_url: str, redis_url: str, sizes: Sizes) -> None:
    add = report.figures.append

    log("ledger")
    with database(database_url) as url:
        books = asyncio.run(ledger.measure_results(url, sizes.ledger_payments, 16, sizes.ledger_entries))
    add(Figure("ledger", "payment entries/s (16 at a time)", f"{books.posted.rate:,.0f}"))
    add(Figure("ledger", "the same rows inserted bare, entries/s", f"{books.bare_rate:,.0f}"))
    add(Figure("ledger", "ratio to bare", f"{books.posted.rate / books.bare_rate:.2f}"))
    check = books.check
    add(Figure("ledger", f"balance check over {check.entries:,} entries, ms", f"{check.duration_ms:,}"))

    log("statements")
    with database(database_url) as url:
        _, issuing = asyncio.run(statements.issue(url, sizes.statement_postings))
    add(Figure("statements", f"issuing one of {sizes.statement_postings:,} items, s", f"{issuing:.2f}"))
    add(Figure("statements", "items/s", f"{sizes.statement_postings / issuing:,.0f}"))

    log("leaders' commissions")
    with database(database_url) as url:
        count, times = asyncio.run(leader_commissions.measure(url, sizes.leaders, sizes.per_leader))
    for label, ms in times.items():
        add(Figure("leader commissions", f"{label} ({count:,} pending), ms", f"{ms:.1f}"))

    log(f"funnel over {sizes.funnel_touches:,} touches")
    empty(database_url, "")
    with tempfile.TemporaryDirectory() as data_dir:
        shop(shop_env(data_dir, database_url, redis_url), "migrate")
        url = database_url or f"sqlite://{data_dir}/shop.sqlite3"
        _, reads = asyncio.run(referral.funnel_reads(url, sizes.funnel_touches))
    for read in reads:
        if read.name.startswith("funnel"):
            label = f"{read.name} ({sizes.funnel_touches:,} touches), ms"
            add(Figure("KOL funnel", label, f"{read.ms:.1f}"))


# -- the table ----------------------------------------------------------------------------------


def where(url: str, default: str) -> str:
    """A URL without its credentials, for the header."""
    if not url:
        return default
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}{parts.path}"


def header(database_url: str, redis_url: str, sizes_name: str) -> str:
    now = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    machine = f"{os.cpu_count()} cores, Python {platform.python_version()} ({platform.machine()})"
    return (
        f"`python -m bench` on {now} (Asia/Shanghai); {machine}; database "
        f"{where(database_url, 'SQLite')}; Redis {where(redis_url, 'embedded stand-in (fakeredis)')}; "
        f"{sizes_name} sizes"
    )


def render(report: Report) -> str:
    lines = [
        report.header,
        "",
        "| benchmark | workers | per second | p50 ms | p99 ms | bare req/s | ratio to bare"
        " | MiB per worker | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.rows:
        rss = f"{r.rss_mib:.0f}" if r.rss_mib is not None else "n/a"
        lines.append(
            f"| {r.benchmark} | {r.workers} | {r.rate:,.0f} | {r.p50:.1f} | {r.p99:.1f} | "
            f"{r.bare_rate:,.0f} | {r.ratio:.2f} | {rss} | {r.errors} |"
        )
    lines += [
        "",
        "| benchmark | figure | value |",
        "|---|---|---|",
        *(f"| {f.benchmark} | {f.figure} | {f.value} |" for f in report.figures),
    ]
    notes = [
        "per second: requests (bot: messages; orders: orders, each a preview plus a create; 拼团: "
        "joins; KOL: touches); the bare handler is one process measured right after each benchmark "
        f"at the same concurrency ({CONCURRENCY} connections; bot {BOT_SENDERS}; admin one at a time); "
        "an order's ratio is against the bare handler's request pairs",
        *report.notes,
    ]
    lines += ["", *(f"- {note}" for note in notes)]
    return "\n".join(lines)


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> Report:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test of the suite")
    parser.add_argument("--workers", default="1,2", help="worker counts to run the HTTP benchmarks with")
    parser.add_argument("--database-url", default="", help="a MySQL database of its own: emptied first")
    parser.add_argument("--redis-url", default="", help="a Redis database of its own: emptied first")
    parser.add_argument("--skus", type=int, help="SKUs of the generated catalog (default 100,000)")
    parser.add_argument("--funnel-touches", type=int, help="touches behind the funnel (default 1,000,000)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    overrides = {k: v for k, v in (("skus", args.skus), ("funnel_touches", args.funnel_touches)) if v}
    sizes = replace(sizes, **overrides)
    name = ("quick" if args.quick else "full") + (
        f" ({', '.join(f'{k} {v:,}' for k, v in overrides.items())})" if overrides else ""
    )
    report = Report(header(args.database_url, args.redis_url, name))
    worker_counts = [int(n) for n in args.workers.split(",")]
    quality = search_quality_figures()
    http_rows(report, args.database_url, args.redis_url, worker_counts, sizes)
    other_figures(report, args.database_url, args.redis_url, sizes)
    report.figures += quality
    out(render(report))
    return report
