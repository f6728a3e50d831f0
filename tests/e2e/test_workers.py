"""`shop serve --workers 2` on MariaDB and Redis, as an operator runs it: a worker killed under
traffic costs at most the requests it had in flight and is replaced; a SIGTERM during a burst
of orders loses none the shoppers were told were accepted; the scheduled jobs still run once
per period however many workers run schedulers.

WeChat is a simulator server of its own here (WECHAT_API_BASE): the one mounted in each worker
keeps its state (login codes) in that worker's memory, and a shopper's login code must be
known to whichever worker the kernel gives the login request."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as redis
from tortoise import Tortoise

from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.config import load_settings
from commerce.db import tortoise_config
from commerce.orders.models import Order
from scheduler.runner import RUNS_KEY
from shop.app import simulator_config, with_simulated_merchant
from shop.workers import Supervisor
from tests.builders import genuine_pay_notification
from tests.concurrency import needs_real_database
from tests.e2e.serving import children, listening_pids, shop, shop_env, supervising
from tests.edges.shoppers import ADDRESS
from tests.factories import sku_row
from wechat_simulator import create_simulator_app

CLIENTS = 8  # requests in flight at once: at most one per client
GRACE = 10  # SHUTDOWN_GRACE_SECONDS of these runs


@pytest.fixture
async def shop_on_services(tmp_path, shop_services, aiohttp_server) -> AsyncIterator[dict]:
    """A schema, a SKU with plenty of stock, a WeChat simulator server, and the environment of
    `shop serve` processes on them."""
    data_dir = tmp_path / "var"
    settings = with_simulated_merchant(load_settings(shop_data_dir=data_dir, wechat_mode="simulator"))
    config = dataclasses.replace(simulator_config(settings), duplicate_notify_rate=0.0)
    simulator = await aiohttp_server(create_simulator_app(config))
    env = {
        **shop_env(data_dir, shop_services),
        "WECHAT_API_BASE": str(simulator.make_url("")).rstrip("/"),
        "SHUTDOWN_GRACE_SECONDS": str(GRACE),
        # Many orders from few shoppers in a few seconds: the anti-hoarding limits stay out of it.
        "ORDER_RATE_LIMIT": "100000",
        "ORDER_MAX_UNPAID_PER_SHOPPER": "100000",
        "ORDER_MAX_UNPAID_QUANTITY_PER_SKU": "100000",
    }
    await Tortoise.init(config=tortoise_config(env["DATABASE_URL"]))
    try:
        await Tortoise.generate_schemas()
        row = sku_row(
            "MANY", "MANY-1", title="纸巾", category="日用 > 纸品 > 抽纸", price="9.90", stock=100_000
        )
        assert not (await import_rows([row])).problems
        yield {
            "env": env,
            "data_dir": data_dir,
            "settings": settings,
            "simulator": str(simulator.make_url("")).rstrip("/"),
            "sku_id": (await Sku.get(sku_code="MANY-1")).id,
        }
    finally:
        await Tortoise.close_connections()


def _log_tail(shop_on_services: dict) -> str:
    return (Path(shop_on_services["env"]["SHOP_DATA_DIR"]) / "serve.log").read_text()[-4000:]


@needs_real_database
@pytest.mark.parametrize(
    "options",
    # each worker binds the port (SO_REUSEPORT), or the supervisor hands them one socket
    [(), ("--share-socket",)],
    ids=["reuse_port", "shared_socket"],
)
async def test_a_killed_worker_costs_only_its_requests_in_flight_and_is_replaced(shop_on_services, options):
    # given two workers and shoppers with an address each
    with supervising(shop_on_services["env"], 2, *options) as (base, supervisor):
        port = int(base.rsplit(":", 1)[1])
        first = set(children(supervisor.pid))
        # (a new connection per request: a failure is a request, not a stale pooled connection)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            shoppers = [await _shopper(http, shop_on_services, base, n) for n in range(CLIENTS)]
            done: list[tuple[float, bool]] = []  # (when the request started, whether it succeeded)
            placed: list[dict] = []
            stop = asyncio.Event()
            traffic = [
                asyncio.create_task(_browse_and_buy(http, shop_on_services, s, n, done, placed, stop))
                for n, s in enumerate(shoppers)
            ]
            await asyncio.sleep(2)

            # when one worker is killed outright in the middle of it
            victim = min(first)
            killed_at = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            # (the kill is delivered asynchronously: for a moment the victim still listens, so
            # it never counts among the two)
            await _until(
                lambda: len(listening_pids(port) & (set(children(supervisor.pid)) - {victim})) == 2, 120
            )
            replaced_at = time.monotonic()
            await asyncio.sleep(2)
            stop.set()
            await asyncio.gather(*traffic)

        # then the supervisor started another in its place, which listens on the port
        now = set(children(supervisor.pid))
        assert victim not in now and len(now) == 2 and len(now - first) == 1
        assert now <= listening_pids(port), _log_tail(shop_on_services)  # who started and exited when
        # and at most the requests in flight on the killed worker failed (one per client at
        # most), none sent once it was gone, and plenty succeeded after the replacement came up
        failed = [started for started, ok in done if not ok]
        assert len(failed) <= CLIENTS, (len(failed), len(done))
        assert all(started < killed_at + 0.5 for started in failed), (failed, killed_at)
        assert sum(1 for started, ok in done if ok and started > replaced_at) >= CLIENTS
        assert len(done) - len(failed) > 10 * CLIENTS
        # and every order a shopper was told was placed (and paid) is so in the database; one
        # whose payment was in flight on the killed worker may be either
        assert placed
        for order in placed:
            status = (await Order.get(id=order["id"])).status
            assert status == "paid" if order["paid"] else status in ("pending_payment", "paid")


@needs_real_database
async def test_sigterm_during_a_burst_of_orders_loses_none_that_were_accepted(shop_on_services):
    # given two workers and shoppers with an address each, ordering as fast as they can
    with supervising(shop_on_services["env"], 2) as (base, supervisor):
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            shoppers = [await _shopper(http, shop_on_services, base, n) for n in range(CLIENTS * 2)]
            accepted: list[tuple[dict, int]] = []
            burst = [
                asyncio.create_task(_order_until_refused(http, s, shop_on_services, accepted))
                for s in shoppers
            ]
            await _until(lambda: len(accepted) >= 20, 60)

            # when the service is stopped in the middle of the burst, as systemd stops it by
            # default: SIGTERM to every process of the service, the supervisor (which forwards
            # it: a second one for each worker, ignored) and each worker
            workers = children(supervisor.pid)
            supervisor.send_signal(signal.SIGTERM)
            for pid in workers:
                os.kill(pid, signal.SIGTERM)
            told_at = time.monotonic()
            await asyncio.gather(*burst)
            await _until(lambda: supervisor.poll() is not None, GRACE + 10)
            stopped_after = time.monotonic() - told_at

        # then it drained and exited within the grace time, cleanly
        assert supervisor.returncode == 0, supervisor.returncode
        assert stopped_after < GRACE, stopped_after
        assert children(supervisor.pid) == []
        # and every order answered 201 is in the database, the shopper's, with its line
        for order, user_id in accepted:
            stored = await Order.get(id=order["id"])
            assert stored.user_id == user_id and stored.status == "pending_payment"
            assert stored.payable == order["payable"]
        assert await Order.all().count() >= len(accepted)


@needs_real_database
async def test_jobs_run_once_per_period_across_workers(shop_on_services):
    # given two workers, each running the in-process scheduler
    with supervising(shop_on_services["env"], 2) as (_, supervisor):
        workers = set(children(supervisor.pid))
        client = redis.Redis.from_url(shop_on_services["env"]["REDIS_URL"], decode_responses=True)
        try:
            # when 12 seconds pass (six periods of the 2-second touch flush)
            await client.hdel(RUNS_KEY, "flush_referral_touches")
            await asyncio.sleep(12)
            runs = int(await client.hget(RUNS_KEY, "flush_referral_touches") or 0)
            claims = [
                await client.get(k) async for k in client.scan_iter("scheduler:flush_referral_touches:*")
            ]
        finally:
            await client.aclose()
    # then the job ran about once per period (two schedulers without the claim: twice that)
    assert 4 <= runs <= 7, runs
    # and each period was claimed by one of the workers
    assert claims and {int(c.rsplit(":", 1)[1]) for c in claims} <= workers


def test_several_workers_without_redis_are_refused(tmp_path):
    # given no REDIS_URL (the embedded stand-in)
    env = shop_env(tmp_path / "var")
    # when asked for two workers
    result = shop(env, "serve", "--workers", "2")
    # then it refuses, in Chinese and English, with exit code 2
    assert result.returncode == 2
    assert (
        "REDIS_URL" in result.stderr and "请设置" in result.stderr and "needs a shared Redis" in result.stderr
    )


# --- shoppers ----------------------------------------------------------------------------------


async def _shopper(http: aiohttp.ClientSession, world: dict, base: str, n: int) -> dict:
    async with http.post(f"{world['simulator']}/wx/login-code", json={"user": f"worker{n}"}) as response:
        code = (await response.json())["code"]
    async with http.post(f"{base}/api/v1/auth/login", json={"code": code}) as response:
        assert response.status == 200, await response.text()
        headers = {"Authorization": f"Bearer {(await response.json())['token']}"}
    async with http.post(f"{base}/api/v1/addresses", json=ADDRESS, headers=headers) as response:
        assert response.status == 201, await response.text()
        address_id = (await response.json())["id"]
    async with http.get(f"{base}/api/v1/me", headers=headers) as response:
        assert response.status == 200, await response.text()
        user_id = (await response.json())["user"]["id"]
    return {"base": base, "headers": headers, "address_id": address_id, "user_id": user_id}


async def _browse_and_buy(http, world, shopper, n, done, placed, stop) -> None:
    """Browse (GETs), and now and then order and pay; each request's start and outcome noted."""
    base, i = shopper["base"], 0
    while not stop.is_set():
        i += 1
        started = time.monotonic()
        try:
            if i % 10 == 0:
                order = await _place(http, shopper, world["sku_id"])
                order["paid"] = False
                placed.append(order)
                started = time.monotonic()
                await _pay(http, world, shopper, order, f"{n:03d}{i:07d}")
                order["paid"] = True
            else:
                async with http.get(f"{base}/api/v1/products") as response:
                    await response.read()
                    assert response.status == 200, response.status
            done.append((started, True))
        except (aiohttp.ClientError, AssertionError):
            done.append((started, False))


async def _place(http, shopper: dict, sku_id: int) -> dict:
    body = {"items": [{"sku_id": sku_id, "quantity": 1}], "address_id": shopper["address_id"]}
    headers = {**shopper["headers"], "Idempotency-Key": uuid.uuid4().hex}
    async with http.post(f"{shopper['base']}/api/v1/orders", json=body, headers=headers) as response:
        assert response.status == 201, response.status
        return await response.json()


async def _pay(http, world, shopper: dict, order: dict, serial: str) -> None:
    """The shopper asks to pay (a prepay at the simulator); WeChat Pay's notification follows."""
    async with http.post(
        f"{shopper['base']}/api/v1/orders/{order['id']}/pay", headers=shopper["headers"]
    ) as r:
        assert r.status == 200, r.status
    headers, body = await genuine_pay_notification(
        world["data_dir"], world["settings"], order, f"42000000002026120700{serial}"
    )
    async with http.post(f"{shopper['base']}/pay/wechat/notify", data=body, headers=headers) as r:
        assert r.status in (200, 204), r.status


async def _order_until_refused(http, shopper: dict, world: dict, accepted: list) -> None:
    """Place orders one after another until the service stops answering."""
    failures = 0
    while failures < 3:
        try:
            order = await _place(http, shopper, world["sku_id"])
        except (aiohttp.ClientError, AssertionError):
            failures += 1
            await asyncio.sleep(0.05)
            continue
        accepted.append((order, shopper["user_id"]))


async def _until(condition, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


def test_a_worker_that_cannot_start_is_restarted_with_a_growing_backoff(tmp_path):
    # given a supervisor of one worker that fails at once, every time
    starts = tmp_path / "starts"
    crash = f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)"
    supervisor = Supervisor(
        command=[sys.executable, "-c", crash], count=1, grace_seconds=1, env=dict(os.environ)
    )
    # when it has run for 4 seconds, then is told to stop
    stopper = threading.Timer(4, os.kill, (os.getpid(), signal.SIGTERM))
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    stopper.start()
    try:
        status = supervisor.run()
    finally:
        stopper.cancel()
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    # then it restarted the worker after 1 s, then 2 s (not 40 times, once per poll), and
    # stopped cleanly
    assert 2 <= len(starts.read_text()) <= 4, starts.read_text()
    assert status == 0
