"""The `shop` command under test runs on the test run's own services: the embedded default
locally; in CI a fresh MariaDB database (migrated by the test, as an operator would) and the
test Redis, so these journeys prove on MariaDB what they prove on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncmy
import pytest
import redis.asyncio as redis
from tortoise.backends.base.config_generator import expand_db_url

from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, on_mysql


@pytest.fixture
async def shop_services() -> AsyncIterator[dict[str, str]]:
    services: dict[str, str] = {}
    if on_mysql():
        services["DATABASE_URL"] = await _fresh_mysql_database(TEST_DATABASE_URL)
    if TEST_REDIS_URL:
        client = redis.Redis.from_url(TEST_REDIS_URL)
        await client.flushdb()
        await client.aclose()
        services["REDIS_URL"] = TEST_REDIS_URL
    yield services


async def _fresh_mysql_database(url: str) -> str:
    """An empty database beside the test database (the test one holds the suite's schema,
    which `shop migrate` must not find)."""
    credentials = expand_db_url(url)["credentials"]
    name = credentials["database"] + "_e2e"
    conn = await asyncmy.connect(
        host=credentials["host"],
        port=int(credentials["port"]),
        user=credentials["user"],
        password=credentials.get("password") or "",
    )
    try:
        async with conn.cursor() as cursor:
            await cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            await cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
