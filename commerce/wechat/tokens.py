"""One access token per app, held in Redis and shared by every process.

Refreshed early (Redis forgets it five minutes before WeChat does) by one process at a time
under a Redis lock: several refreshes at once would invalidate each other's tokens.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as redis

from commerce.wechat.errors import WeChatUnavailable

EARLY_REFRESH_SECONDS = 300
LOCK_MS = 15_000
WAIT_FOR_OTHERS_SECONDS = 10.0

# Delete the key only if it still holds the value we know: never someone else's.
_COMPARE_AND_DELETE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

Fetch = Callable[[], Awaitable[tuple[str, int]]]  # -> (token, expires_in seconds)


class AccessTokenCache:
    def __init__(self, *, redis_client: redis.Redis, appid: str, fetch: Fetch) -> None:
        self._redis = redis_client
        self._key = f"wechat:access_token:{appid}"
        self._lock = f"wechat:access_token:{appid}:refreshing"
        self._fetch = fetch
        self._compare_and_delete = redis_client.register_script(_COMPARE_AND_DELETE)

    async def get(self) -> str:
        cached = await self._redis.get(self._key)
        if cached:
            return cached.decode()
        return await self._refresh()

    async def invalidate(self, failed_token: str) -> None:
        """Forget the token WeChat refused, unless another process has replaced it already."""
        await self._compare_and_delete(keys=[self._key], args=[failed_token])

    async def _refresh(self) -> str:
        holder = secrets.token_hex(8)
        deadline = time.monotonic() + WAIT_FOR_OTHERS_SECONDS
        while True:
            if await self._redis.set(self._lock, holder, nx=True, px=LOCK_MS):
                try:
                    cached = await self._redis.get(self._key)  # refreshed while we queued?
                    if cached:
                        return cached.decode()
                    token, expires_in = await self._fetch()
                    ttl = max(expires_in - EARLY_REFRESH_SECONDS, 30)
                    await self._redis.set(self._key, token, ex=ttl)
                    return token
                finally:
                    await self._compare_and_delete(keys=[self._lock], args=[holder])
            await asyncio.sleep(0.05)  # another process is refreshing: use what it gets
            cached = await self._redis.get(self._key)
            if cached:
                return cached.decode()
            if time.monotonic() > deadline:
                raise WeChatUnavailable("timed out waiting for the access token refresh")
