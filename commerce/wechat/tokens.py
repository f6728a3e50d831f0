"""One access token per app, held in Redis and shared by every process.

WeChat's stable_token hands out the same token until five minutes before it expires and a new
one after that (both valid meanwhile); a forced refresh revokes the old one at once. So:

- Redis keeps the token for the lifetime WeChat gave it, less a minute of safety margin.
- When fewer than EARLY_REFRESH_SECONDS remain, the one process that takes the Redis lock
  renews it; every other caller keeps using the current token, which is still valid.
- When there is no token at all, the lock holder fetches it and the others poll Redis until
  it appears (bounded by a deadline); a failed fetch is remembered for a moment so that a
  stampede during an outage makes one call to WeChat, not one per request.
- When WeChat refuses a token (40001/42001/40014), `replace` forgets it only if Redis still
  holds that very token (compare-and-delete) and fetches another; if normal mode hands back
  the refused token, a forced refresh replaces it.

The lock is SET NX PX with a random value, released by compare-and-delete: a process never
deletes a lock it no longer holds.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as redis

from commerce.wechat.errors import WeChatError, WeChatUnavailable

log = logging.getLogger(__name__)

EARLY_REFRESH_SECONDS = 240  # WeChat renews in the last 300 s; ask within them, so it does
SAFETY_SECONDS = 60  # never hand out a token with less than this left
LOCK_MS = 15_000  # longer than two fetches (normal, then forced) with the client's timeout
WAIT_SECONDS = 7.0  # how long a caller waits for another process's refresh
POLL_SECONDS = 0.05
FAILURE_MEMORY_MS = 2_000

# Delete the key only if it still holds the value we know: never someone else's.
_COMPARE_AND_DELETE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

# force_refresh -> (access_token, expires_in seconds)
Fetch = Callable[[bool], Awaitable[tuple[str, int]]]


class AccessTokenCache:
    """The shared access token of one appid."""

    def __init__(
        self,
        *,
        redis_client: redis.Redis,
        appid: str,
        fetch: Fetch,
        wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        self._redis = redis_client
        self._key = f"wechat:access_token:{appid}"
        self._lock = f"{self._key}:refreshing"
        self._failed = f"{self._key}:failed"
        self._fetch = fetch
        self._wait_seconds = wait_seconds
        self._compare_and_delete = redis_client.register_script(_COMPARE_AND_DELETE)

    async def get(self) -> str:
        """A valid token: the cached one, renewed early by one process, or a new one."""
        token, ttl_ms, _ = await self._read()
        if token is None:
            return await self._refresh(failed=None)
        if 0 <= ttl_ms < (EARLY_REFRESH_SECONDS - SAFETY_SECONDS) * 1000:
            return await self._renew_early(token)
        return token

    async def replace(self, failed_token: str) -> str:
        """A token other than the one WeChat just refused."""
        await self.invalidate(failed_token)
        return await self._refresh(failed=failed_token)

    async def invalidate(self, failed_token: str) -> None:
        """Forget the token WeChat refused, unless another process has replaced it already."""
        await self._compare_and_delete(keys=[self._key], args=[failed_token])

    async def _read(self) -> tuple[str | None, int, bool]:
        """The cached token, its remaining milliseconds, and whether a refresh just failed."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._key)
            pipe.pttl(self._key)
            pipe.exists(self._failed)
            value, ttl_ms, failed = await pipe.execute()
        return (value.decode() if value else None), int(ttl_ms), bool(failed)

    async def _renew_early(self, token: str) -> str:
        holder = await self._acquire()
        if holder is None:
            return token  # another process is renewing; this token is still valid meanwhile
        try:
            current, _, recently_failed = await self._read()
            if current and current != token:
                return current  # renewed while we took the lock
            if recently_failed:
                return token
            try:
                return await self._fetch_and_store(failed=None)
            except (WeChatError, WeChatUnavailable) as exc:
                log.warning("early access token renewal failed, keeping the current one: %s", exc)
                return token
        finally:
            await self._release(holder)

    async def _refresh(self, *, failed: str | None) -> str:
        deadline = time.monotonic() + self._wait_seconds
        while True:
            holder = await self._acquire()
            if holder is not None:
                try:
                    current, _, recently_failed = await self._read()
                    if current and current != failed:
                        return current  # refreshed by another process while we queued
                    if recently_failed:
                        raise WeChatUnavailable("the access token refresh failed a moment ago")
                    return await self._fetch_and_store(failed=failed)
                finally:
                    await self._release(holder)
            await asyncio.sleep(POLL_SECONDS)  # another process is refreshing: use what it gets
            current, _, recently_failed = await self._read()
            if current and current != failed:
                return current
            if recently_failed:
                raise WeChatUnavailable("the access token refresh failed a moment ago")
            if time.monotonic() > deadline:
                raise WeChatUnavailable("timed out waiting for the access token refresh")

    async def _fetch_and_store(self, *, failed: str | None) -> str:
        try:
            token, expires_in = await self._fetch(False)
            if failed is not None and token == failed:
                # Normal mode still hands out the token WeChat refused: only a forced
                # refresh replaces it (WeChat allows that once per 30 s, 20 times a day).
                log.warning("stable_token returned the refused access token; forcing a refresh")
                token, expires_in = await self._fetch(True)
        except (WeChatError, WeChatUnavailable):
            await self._redis.set(self._failed, b"1", px=FAILURE_MEMORY_MS)
            raise
        ttl_ms = max(expires_in - SAFETY_SECONDS, 1) * 1000
        await self._redis.set(self._key, token, px=ttl_ms)
        await self._redis.delete(self._failed)
        return token

    async def _acquire(self) -> str | None:
        holder = secrets.token_hex(8)
        if await self._redis.set(self._lock, holder, nx=True, px=LOCK_MS):
            return holder
        return None

    async def _release(self, holder: str) -> None:
        await self._compare_and_delete(keys=[self._lock], args=[holder])
