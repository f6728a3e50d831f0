"""The test harness.

The database is SQLite in a temporary folder unless TEST_DATABASE_URL names another (CI:
MariaDB); Redis is the embedded stand-in unless TEST_REDIS_URL names a server (CI: Redis).
Nothing is skipped when those are set and unreachable: the tests fail.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from tortoise import Tortoise
from tortoise import context as tortoise_context
from tortoise.exceptions import OperationalError

from commerce.config import Settings, load_settings
from commerce.core import Core
from commerce.db import close_db, is_mysql, tortoise_config
from shop.app import create_app, simulator_config, with_simulated_merchant
from shop.subscriptions import subscribers
from tests.coverage_by_context import pytest_sessionfinish, pytest_terminal_summary  # noqa: F401
from tests.ports import free_port
from tests.watchdog import (  # noqa: F401
    pytest_runtest_call,
    pytest_runtest_setup,
    pytest_runtest_teardown,
)
from wechat_simulator import create_simulator_app
from wechat_simulator.pay_keys import provision_merchant

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
_schema_ready: set[str] = set()


def on_mysql() -> bool:
    return is_mysql(TEST_DATABASE_URL)


@pytest.fixture(autouse=True)
def _no_database_left_connected_by_an_earlier_test() -> None:
    """A test stopped by the watchdog (tests/watchdog.py) never runs its teardown, so its global
    database context stays set and every later `Tortoise.init` would refuse to start: one hung
    test would turn into hundreds of errors. That test has already failed, saying where it hung;
    forget its context (its connections died with its event loop) and go on."""
    if tortoise_context._global_context is not None:
        warnings.warn("an earlier test left the database connected; forgetting its context", stacklevel=1)
        tortoise_context._global_context = None  # no public way to drop a context that cannot close


@pytest.fixture
def real_database() -> None:
    """For `tests.concurrency.needs_real_database`: a race proved on MariaDB or not at all."""
    from tests.concurrency import REASON

    if on_mysql():
        return
    if os.environ.get("TEST_REQUIRE_SERVICES"):
        pytest.fail(f"TEST_REQUIRE_SERVICES is set but TEST_DATABASE_URL is not MariaDB: {REASON}")
    pytest.skip(REASON)


@pytest.fixture(scope="session")
def pay_keys(tmp_path_factory) -> Path:
    """The simulated merchant's WeChat Pay keys, made once (RSA keys take a while)."""
    root = tmp_path_factory.mktemp("pay-keys")
    provision_merchant(root / "simulator", root / "wechatpay")
    return root


@pytest.fixture
def data_dir(tmp_path: Path, pay_keys: Path) -> Path:
    """A fresh data folder holding the simulated merchant's keys (as the first run makes them)."""
    folder = tmp_path / "var"
    shutil.copytree(pay_keys, folder)
    return folder


@pytest.fixture
def app_port() -> int:
    """The port the app under test listens on: WeChat Pay calls it back there."""
    return free_port()


@pytest.fixture
def settings(data_dir: Path, app_port: int) -> Settings:
    return with_simulated_merchant(
        load_settings(
            shop_data_dir=data_dir,
            database_url=TEST_DATABASE_URL,
            redis_url=TEST_REDIS_URL,
            wechat_mode="simulator",
            secret_key="test-secret-key-that-is-long-enough-0123456789",
            search_refresh_seconds=0,  # tests see every change at once
            public_base_url=f"http://127.0.0.1:{app_port}",
        )
    )


async def _reset_schema(database_url: str) -> None:
    """Create the schema once per run (and per SQLite file); empty every table after."""
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        if is_mysql(database_url):
            await _end_leaked_sessions(Tortoise.get_connection("default"))
        if database_url not in _schema_ready:
            if is_mysql(database_url):
                await _drop_all_mysql_tables()
            await Tortoise.generate_schemas(safe=False)
            _schema_ready.add(database_url)
        else:
            await _truncate_all()
    finally:
        await Tortoise.close_connections()


async def _drop_all_mysql_tables() -> None:
    conn = Tortoise.get_connection("default")
    _, rows = await conn.execute_query("SHOW TABLES")
    await conn.execute_script("SET FOREIGN_KEY_CHECKS=0")
    for row in rows:
        (name,) = row.values()
        await conn.execute_script(f"DROP TABLE IF EXISTS `{name}`")
    await conn.execute_script("SET FOREIGN_KEY_CHECKS=1")


async def _truncate_all() -> None:
    conn = Tortoise.get_connection("default")
    tables = [model._meta.db_table for model in Tortoise.apps["models"].values()]
    if on_mysql():
        # TRUNCATE recreates a table's storage, a few milliseconds each on InnoDB: only the tables
        # the last test touched (rows left, or ids used) are worth it.
        touched = await _touched_mysql_tables(conn, tables)
        if not touched:
            return
        await conn.execute_script("SET FOREIGN_KEY_CHECKS=0")
        for table in touched:
            await conn.execute_script(f"TRUNCATE TABLE `{table}`")
        await conn.execute_script("SET FOREIGN_KEY_CHECKS=1")
    else:
        await conn.execute_script("PRAGMA foreign_keys=OFF")
        for table in tables:
            await conn.execute_script(f'DELETE FROM "{table}"')
        await conn.execute_script("PRAGMA foreign_keys=ON")


async def _touched_mysql_tables(conn, tables: list[str]) -> list[str]:
    """The tables holding a row, or whose next id is no longer 1 (MariaDB reports AUTO_INCREMENT
    live), in two queries."""
    _, used = await conn.execute_query(
        "SELECT table_name AS name FROM information_schema.tables"
        " WHERE table_schema = DATABASE() AND auto_increment > 1"
    )
    holding = " UNION ALL ".join(
        f"SELECT '{table}' AS name FROM (SELECT 1 FROM `{table}` LIMIT 1) AS t{i}"
        for i, table in enumerate(tables)
    )
    _, rows = await conn.execute_query(holding)
    names = {row["name"] for row in used} | {row["name"] for row in rows}
    return [table for table in tables if table in names]


async def _end_leaked_sessions(conn) -> None:
    """A session an earlier test left open on the test database (a transaction a cancelled task
    never ended) would hold metadata locks that TRUNCATE waits for: say so, and end it."""
    _, rows = await conn.execute_query(
        "SELECT id, command, time, state, info FROM information_schema.processlist"
        " WHERE db = DATABASE() AND id <> CONNECTION_ID()"
    )
    for row in rows:
        warnings.warn(f"an earlier test left a database session open; ending it: {row}", stacklevel=1)
        with contextlib.suppress(OperationalError):  # it ended by itself meanwhile
            await conn.execute_script(f"KILL {int(row['id'])}")
    # DROP and TRUNCATE wait for metadata locks; never for the server's default of a year.
    await conn.execute_script("SET SESSION lock_wait_timeout=60")


@pytest.fixture
async def empty_database(settings: Settings) -> str:
    """A database with the current schema and no rows; not connected."""
    url = settings.resolved_database_url
    await _reset_schema(url)
    return url


@pytest.fixture
async def empty_redis(settings: Settings) -> None:
    if settings.redis_url:
        import redis.asyncio as redis

        client = redis.Redis.from_url(settings.redis_url)
        await client.flushdb()
        await client.aclose()


@pytest.fixture
async def simulator(aiohttp_server, settings: Settings) -> TestServer:
    """The WeChat simulator as a real HTTP server of its own: notifications are not duplicated
    at random (tests ask for duplicates), and retried within milliseconds."""
    config = dataclasses.replace(
        simulator_config(settings),
        duplicate_notify_rate=0.0,
        notify_retry_scale=0.001,
        refund_delay_seconds=0.05,
    )
    return await aiohttp_server(create_simulator_app(config))


@pytest.fixture
def wired_settings(settings: Settings, simulator: TestServer) -> Settings:
    """Settings whose WeChat clients talk to the simulator server."""
    return settings.model_copy(update={"wechat_api_base": str(simulator.make_url("")).rstrip("/")})


@pytest.fixture
async def core(wired_settings: Settings, empty_database: str, empty_redis: None) -> AsyncIterator[Core]:
    """The started core on an empty database (integration tests), with the service's
    subscribers (the composition root's table)."""
    started = Core(wired_settings, subscribers)
    await started.start()
    yield started
    await started.close()


@pytest.fixture
async def db(settings: Settings, empty_database: str) -> AsyncIterator[None]:
    """Just the database (tests of services that need nothing else)."""
    await Tortoise.init(config=tortoise_config(empty_database), _enable_global_fallback=True)
    yield
    await close_db()


@pytest.fixture
async def client(
    aiohttp_client, wired_settings: Settings, app_port: int, empty_database: str, empty_redis: None
) -> TestClient:
    """The real app (from the app factory) on an empty database, talking to the simulator."""
    app = create_app(wired_settings, mount_simulator=False)
    return await aiohttp_client(app, server_kwargs={"port": app_port})
