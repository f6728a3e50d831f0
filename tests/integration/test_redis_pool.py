"""The Redis client under a burst: more commands at once than the pool has connections wait
for one instead of failing (redis-py's default pool raised "Too many connections" past 100,
and 200 shoppers checking out at once got 500s). On a real Redis: the embedded stand-in has
no connections to run out of."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from commerce.cache import create_redis
from tests.conftest import TEST_REDIS_URL

COUNT = "local n = redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], 60) return n"


@pytest.fixture
def real_redis() -> None:
    if TEST_REDIS_URL:
        return
    if os.environ.get("TEST_REQUIRE_SERVICES"):
        pytest.fail("TEST_REQUIRE_SERVICES is set but TEST_REDIS_URL is not")
    pytest.skip("the embedded Redis stand-in has no connection pool")


@pytest.mark.parametrize("pool_max", [100, 3])
async def test_more_commands_at_once_than_connections_all_go_through(real_redis, settings, pool_max):
    # given a client whose pool holds `pool_max` connections
    name = f"pool-test-{uuid.uuid4().hex[:8]}"  # its connections, as CLIENT LIST shows them
    url = f"{TEST_REDIS_URL}{'&' if '?' in TEST_REDIS_URL else '?'}client_name={name}"
    client = create_redis(settings.model_copy(update={"redis_url": url, "redis_pool_max": pool_max}))
    key = f"test:pool:{name}"
    try:
        # when three times as many scripts (at least 300) run at once
        results = await asyncio.gather(
            *(client.eval(COUNT, 1, key) for _ in range(max(300, 3 * pool_max))), return_exceptions=True
        )
        # then every one went through, none refused, and no more connections were opened
        assert [r for r in results if isinstance(r, Exception)] == []
        assert sorted(results) == list(range(1, len(results) + 1))
        opened = [c for c in await client.client_list() if c.get("name") == name]
        assert 1 <= len(opened) <= pool_max
    finally:
        await client.delete(key)
        await client.aclose()
