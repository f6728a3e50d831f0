"""The redis.asyncio client: a real Redis by REDIS_URL, the embedded stand-in otherwise."""

from __future__ import annotations

import redis.asyncio as redis

from commerce.config import Settings


def create_redis(settings: Settings) -> redis.Redis:
    """A client for REDIS_URL, or an in-process fakeredis (with Lua) for the embedded default.

    The stand-in lives in this process only: fine for one `shop serve`; several processes
    need a real Redis.

    A real Redis is reached through a blocking pool of at most REDIS_POOL_MAX connections:
    redis-py's default pool raises "Too many connections" past its size (100), which turned a
    burst of shoppers into 500s; this one makes the extra commands wait for a free connection.
    """
    if settings.redis_url:
        pool = redis.BlockingConnectionPool.from_url(
            settings.redis_url,
            max_connections=settings.redis_pool_max,
            timeout=settings.redis_pool_timeout_seconds,
            decode_responses=False,
        )
        return redis.Redis.from_pool(pool)  # closing the client closes its pool
    import fakeredis  # only the embedded default needs it

    return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer(), decode_responses=False)
