"""Order placement (checkout preview + order creation) over HTTP, against a bare aiohttp handler.

    .venv/bin/python -m bench.orders [--orders 1000] [--concurrency 32] [--database-url mysql://…]
                                     [--redis-url redis://…] [--workers 2]

Starts `shop serve` on the demo catalog (SQLite in a temporary folder by default) and the bare
handler, logs in simulated shoppers and gives each an address, then has `--concurrency`
connections preview and place orders for in-stock SKUs as fast as they can. Each shopper places
ORDERS_PER_SHOPPER orders (one connection after another), within the shop's default limits on
unpaid orders and orders per minute, so the limits are checked on every order and never refuse.

With `--workers N` (which needs --redis-url) the shop runs as N workers sharing the port, and
WeChat is a simulator server of its own (each worker's mounted one would know only the login
codes it issued itself).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.catalog import PIDS, ROOT, SHOP, cpu_seconds, free_port, process, shop_and_bare
from bench.loadgen import Result, run, wait_until_up

ORDERS_PER_SHOPPER = 5  # ORDER_MAX_UNPAID_PER_SHOPPER's default
ADDRESS = {
    "receiver_name": "压测",
    "phone": "13800138000",
    "province": "广东省",
    "city": "深圳市",
    "district": "南山区",
    "detail": "科技园",
}


SIMULATOR = ""  # the WeChat simulator's base URL: the shop's own /_sim unless it runs apart


async def signed_in(base: str, name: str) -> dict[str, str]:
    """The bearer header of simulated shopper `name`. A simulator mounted in the shop keeps its
    login codes in the memory of the `shop serve` worker that issued them, and when several
    workers share the port the shop's own exchange of the code (a call to the simulator at the
    shop's address, over a kept-alive connection) may reach the other one: a refused code is
    asked for again, over a new connection that the kernel may hand to another worker (not
    timed). A simulator running apart (SIMULATOR) answers the first time."""
    for attempt in range(100):
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as one:
            async with one.post(
                f"{SIMULATOR or base + '/_sim'}/wx/login-code", json={"user": name}
            ) as response:
                code = (await response.json())["code"]
            async with one.post(f"{base}/api/v1/auth/login", json={"code": code}) as response:
                answer = await response.json()
        if "token" in answer:
            return {"Authorization": f"Bearer {answer['token']}"}
        await asyncio.sleep(0.05 * min(attempt, 10))  # until a kept-alive connection is dropped
    raise RuntimeError(f"{name} could not sign in: {answer}")


async def shopper(http: aiohttp.ClientSession, base: str, name: str) -> tuple[dict, int]:
    headers = await signed_in(base, name)
    async with http.post(f"{base}/api/v1/addresses", json=ADDRESS, headers=headers) as response:
        return headers, (await response.json())["id"]


async def in_stock_skus(http: aiohttp.ClientSession, base: str) -> list[int]:
    async with http.get(f"{base}/api/v1/products?in_stock=true&page_size=100") as response:
        products = (await response.json())["items"]
    skus = []
    for product in products:
        async with http.get(f"{base}/api/v1/products/{product['id']}") as response:
            skus += [sku["id"] for sku in (await response.json())["skus"] if sku["stock"] >= 50]
    return skus


@dataclass
class Placed:
    """Orders placed as fast as the connections could: each latency is a preview plus a create."""

    result: Result
    failures: dict[int, int]
    cpu_ms_per_order: float | None  # shop serve's own CPU (one process; None where /proc is not)


async def measure(base: str, bare_url: str, orders: int, concurrency: int) -> str:
    placed = await place(base, orders, concurrency)
    bare = await run("bare", [bare_url], requests=orders * 2, concurrency=concurrency)
    latencies, failures = sorted(placed.result.latencies_ms), placed.failures
    p99 = placed.result.percentile(99)
    rate = placed.result.rps
    where = " (why: bench/results/shop-serve.log)" if failures else ""
    cpu = ""
    if placed.cpu_ms_per_order is not None:
        cpu = f"; shop serve CPU {placed.cpu_ms_per_order:.2f} ms per order"
    return (
        f"orders placed: {len(latencies)} in {placed.result.seconds:.1f} s = {rate:.0f} orders/s "
        f"(each = preview + create), p50 {latencies[len(latencies) // 2]:.1f} ms, p99 {p99:.1f} ms, "
        f"failures {failures or 'none'}{where}{cpu}\n"
        f"bare aiohttp handler: {bare.rps:.0f} req/s = {bare.rps / 2:.0f} request pairs/s; "
        f"orders reach {rate / (bare.rps / 2):.0%} of that"
    )


async def place(base: str, orders: int, concurrency: int) -> Placed:
    async with aiohttp.ClientSession() as http:
        # Each connection keeps its shopper for ORDERS_PER_SHOPPER orders; at the end every
        # connection may hold a shopper it used only partly.
        needed = -(-orders // ORDERS_PER_SHOPPER) + concurrency
        gate = asyncio.Semaphore(concurrency)

        async def signed_up(n: int) -> tuple[dict, int]:
            async with gate:
                return await shopper(http, base, f"bench{n}")

        shoppers = iter(await asyncio.gather(*(signed_up(n) for n in range(needed))))
        skus = itertools.cycle(await in_stock_skus(http, base))
        remaining = orders
        latencies: list[float] = []
        failures: dict[int, int] = {}

        async def worker() -> None:
            while remaining > 0:
                await shopper_orders(*next(shoppers))

        async def shopper_orders(headers: dict, address_id: int) -> None:
            nonlocal remaining
            for _ in range(ORDERS_PER_SHOPPER):
                if remaining <= 0:
                    return
                remaining -= 1
                body = {"items": [{"sku_id": next(skus), "quantity": 1}], "address_id": address_id}
                started = time.perf_counter()
                async with http.post(f"{base}/api/v1/checkout/preview", json=body, headers=headers) as r:
                    await r.read()
                keyed = {**headers, "Idempotency-Key": uuid.uuid4().hex}
                async with http.post(f"{base}/api/v1/orders", json=body, headers=keyed) as r:
                    await r.read()
                    if r.status != 201:
                        failures[r.status] = failures.get(r.status, 0) + 1
                latencies.append((time.perf_counter() - started) * 1000)

        started, cpu_before = time.perf_counter(), cpu_seconds("shop-serve")
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed, cpu_after = time.perf_counter() - started, cpu_seconds("shop-serve")
    cpu = None
    if cpu_before is not None and cpu_after is not None:
        cpu = (cpu_after - cpu_before) * 1000 / max(1, len(latencies))
    errors = sum(failures.values())
    return Placed(Result("orders", len(latencies), errors, elapsed, latencies), failures, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default="", help="a MySQL database of its own: emptied first")
    parser.add_argument("--redis-url", default="", help="a Redis database of its own: emptied first")
    parser.add_argument(
        "--workers", type=int, default=1, help="shop serve --workers (over 1 needs --redis-url)"
    )
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
        if args.redis_url:  # the shoppers of a previous run would still be counted
            asyncio.run(reset_redis(args.redis_url))
        subprocess.run([SHOP, "migrate"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([SHOP, "seed-demo"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        with contextlib.ExitStack() as stack:
            if args.workers > 1:
                global SIMULATOR
                port = free_port()
                stack.enter_context(process([SHOP, "simulator", "--port", str(port)], env, name="sim"))
                SIMULATOR = env["WECHAT_API_BASE"] = f"http://127.0.0.1:{port}"
                asyncio.run(wait_until_up(f"{SIMULATOR}/wx/login-code"))
            base, bare_url = stack.enter_context(shop_and_bare(env, "--workers", str(args.workers)))
            wait_for_workers(PIDS["shop-serve"], int(base.rsplit(":", 1)[1]), args.workers)
            database = args.database_url.split("@")[-1] if args.database_url else "SQLite"
            print(
                f"order benchmark on {database}: {args.orders} orders, concurrency {args.concurrency}, "
                f"{args.workers} worker{'s' if args.workers > 1 else ''}"
            )
            print(asyncio.run(measure(base, bare_url, args.orders, args.concurrency)))


def wait_for_workers(supervisor: int, port: int, workers: int, within_seconds: float = 120) -> None:
    """Until every worker listens on the port (the first one answering is not all of them)."""
    if workers <= 1:
        return
    deadline = time.monotonic() + within_seconds
    while len(listening_children(supervisor, port)) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{workers} workers did not come up")
        time.sleep(0.2)


def listening_children(pid: int, port: int) -> set[int]:
    """The children of `pid` holding a socket that listens on the port (Linux)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
            inodes.add(f"socket:[{fields[9]}]")
    kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    found = set()
    for kid in kids:
        with contextlib.suppress(OSError):
            if inodes & {os.readlink(fd) for fd in Path(f"/proc/{kid}/fd").iterdir()}:
                found.add(int(kid))
    return found


async def reset_redis(url: str) -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url)
    await client.flushdb()
    await client.aclose()


async def reset_mysql(url: str) -> None:
    """Drop every table of the benchmark database so that it starts empty."""
    from tortoise import Tortoise

    from commerce.db import tortoise_config

    await Tortoise.init(config=tortoise_config(url))
    conn = Tortoise.get_connection("default")
    _, rows = await conn.execute_query("SHOW TABLES")
    await conn.execute_script("SET FOREIGN_KEY_CHECKS=0")
    for row in rows:
        await conn.execute_script(f"DROP TABLE `{next(iter(row.values()))}`")
    await conn.execute_script("SET FOREIGN_KEY_CHECKS=1")
    await Tortoise.close_connections()


if __name__ == "__main__":
    main()
