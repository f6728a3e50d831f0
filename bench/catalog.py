"""Catalog listing, product detail and search over HTTP, against a bare aiohttp handler, in one run.

    .venv/bin/python -m bench.catalog [--requests 3000] [--concurrency 32] [--database-url URL]

Starts `shop serve` (SQLite with the demo catalog by default, in a temporary data folder) and
the bare handler as separate processes, drives each with the same load generator, and prints
requests/s, latency percentiles and the ratio to the bare handler. These machines are shared
and noisy: compare ratios from one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.loadgen import Result, run, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
SHOP = str(Path(sys.executable).parent / "shop")
QUERIES = [
    "苹果手机",
    "iphone",
    "蓝牙耳机",
    "华为",
    "小米",
    "脐橙",
    "牛奶",
    "口红",
    "运动鞋",
    "笔记本",
    "耳机",
    "面膜",
    "零食",
    "纸尿裤",
    "空调",
    "羽绒服",
    "华为mate",
    "iphnoe",
    "坚果",
    "洗发水",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LOGS = ROOT / "bench" / "results"


PIDS: dict[str, int] = {}  # the running servers' process ids, by name


def cpu_seconds(name: str) -> float | None:
    """CPU time (user + system) the named server has used so far; None where /proc is not.
    On a shared, noisy machine CPU per request varies less than requests per second."""
    try:
        return _cpu_of(PIDS[name])
    except (KeyError, OSError):
        return None


def _cpu_of(pid: int) -> float:
    """A process's CPU seconds with its running children's (`shop serve --workers N`'s
    workers); a worker that died since is not counted."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = children.read_text().split() if children.exists() else []
    return own + sum(_cpu_of(int(kid)) for kid in kids)


@contextmanager
def process(args: list[str], env: dict[str, str], *, name: str):
    """Run a server until the block ends; what it logs goes to bench/results/NAME.log (a pipe
    nobody reads would stall it once full, and a failure's cause would be lost)."""
    LOGS.mkdir(parents=True, exist_ok=True)
    with (LOGS / f"{name}.log").open("w") as log:
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        PIDS[name] = proc.pid
        try:
            yield proc
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def serve_command(port: int, workers: int = 1) -> list[str]:
    """`shop serve` on `port`; `--workers` is passed only when more than one is asked for, so the
    command stays valid for a `shop serve` that does not know the option."""
    return [SHOP, "serve", "--port", str(port), *(["--workers", str(workers)] if workers > 1 else [])]


@contextmanager
def shop_and_bare(env: dict[str, str], *serve_options: str, workers: int = 1) -> Iterator[tuple[str, str]]:
    """`shop serve` (with `workers`, and `serve_options`) and the bare handler, each in its own
    process, up and answering."""
    shop_port, bare_port = free_port(), free_port()
    with (
        process([*serve_command(shop_port, workers), *serve_options], env, name="shop-serve"),
        process([sys.executable, "-m", "bench.bare_server", "--port", str(bare_port)], env, name="bare"),
    ):
        base, bare_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{bare_port}/bare"
        asyncio.run(wait_until_up(f"{base}/api/v1/categories"))
        asyncio.run(wait_until_up(bare_url))
        yield base, bare_url


def fetch_json(url: str) -> dict:
    with urllib.request.urlopen(url) as response:  # loopback only
        return json.load(response)


async def generate_catalog(database_url: str, skus: int) -> None:
    from tortoise import Tortoise

    from bench.search_scale import generate
    from commerce.db import tortoise_config

    await Tortoise.init(config=tortoise_config(database_url))
    try:
        await generate(skus)
    finally:
        await Tortoise.close_connections()


def report(results: list[Result], bare: Result) -> str:
    lines = [
        "| endpoint | req/s | p50 ms | p95 ms | p99 ms | errors | ratio to bare |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in [bare, *results]:
        lines.append(
            f"| {r.name} | {r.rps:.0f} | {r.percentile(50):.1f} | {r.percentile(95):.1f} | "
            f"{r.percentile(99):.1f} | {r.errors} | {r.rps / bare.rps:.0%} |"
        )
    return "\n".join(lines)


@dataclass
class CatalogRun:
    bare: Result
    results: list[Result]  # list, detail, search
    single: Result  # search one request at a time


async def measure(base: str, bare_url: str, requests: int, concurrency: int) -> str:
    measured = await measure_results(base, bare_url, requests, concurrency)
    table = report(measured.results, measured.bare)
    single = measured.single
    unloaded = f"p50 {single.percentile(50):.1f} ms, p95 {single.percentile(95):.1f} ms"
    return f"{table}\n\nsearch latency unloaded (one request at a time): {unloaded}"


async def measure_results(base: str, bare_url: str, requests: int, concurrency: int) -> CatalogRun:
    page = fetch_json(f"{base}/api/v1/products?page_size=100")
    product_ids = [item["id"] for item in page["items"]]
    categories = [c["id"] for c in fetch_json(f"{base}/api/v1/categories")["items"]]
    list_urls = [f"{base}/api/v1/products?page={p}&page_size=20" for p in (1, 2, 3)] + [
        f"{base}/api/v1/products?category_id={c}&sort=price_asc" for c in categories
    ]
    detail_urls = [f"{base}/api/v1/products/{i}" for i in product_ids]
    search_urls = [f"{base}/api/v1/products?q={urllib.parse.quote(q)}" for q in QUERIES]
    for urls in (list_urls, detail_urls, search_urls, [bare_url]):  # warm up
        await run("warmup", urls, requests=200, concurrency=concurrency)
    bare = await run("bare aiohttp handler", [bare_url], requests=requests, concurrency=concurrency)
    results = [
        await run("GET /products (list)", list_urls, requests=requests, concurrency=concurrency),
        await run("GET /products/{id}", detail_urls, requests=requests, concurrency=concurrency),
        await run("GET /products?q= (search)", search_urls, requests=requests, concurrency=concurrency),
    ]
    # Search latency alone, one request at a time: what one shopper waits.
    single = await run("search, one at a time", search_urls, requests=400, concurrency=1)
    return CatalogRun(bare, results, single)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    parser.add_argument("--skus", type=int, default=0, help="generate this many SKUs instead of the demo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "SHOP_DATA_DIR": data_dir,
            "DATABASE_URL": args.database_url,
            "WECHAT_MODE": "simulator",
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run([SHOP, "migrate"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(
            [SHOP, "seed-demo", "--if-empty"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
        )
        with shop_and_bare(env) as (base, bare_url):
            catalog = f"{args.skus} generated SKUs" if args.skus else "the demo catalog"
            load = f"{args.requests} requests per endpoint, concurrency {args.concurrency}"
            print(f"catalog benchmark on {catalog}: {load}")
            print(asyncio.run(measure(base, bare_url, args.requests, args.concurrency)))


if __name__ == "__main__":
    main()
