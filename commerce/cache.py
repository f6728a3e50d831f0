"""The redis.asyncio client: a real Redis by REDIS_URL, the embedded stand-in otherwise."""

from __future__ import annotations

import redis.asyncio as redis

from commerce.config import Settings


def create_redis(settings: Settings) -> redis.Redis:
    """A client for REDIS_URL, or an in-process fakeredis (with Lua) for the embedded default.

    The stand-in lives in this process only: fine for one `shop serve`; several processes
    need a real Redis.
    """
    if settings.redis_url:
        return redis.Redis.from_url(settings.redis_url, decode_responses=False)
    import fakeredis  # only the embedded default needs it

    return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer(), decode_responses=False)
