"""Merchants' shipping templates held in this process: every checkout preview and placement
prices each merchant's delivery, and reading a template (with its province rules) from the
database cost a query or two each time.

A cache of the database kept current across processes by a version in Redis: every save sets
a new random version after its commit, and lookups read the version first (one Redis GET, far
cheaper than the queries, at most every CHECK_EVERY_SECONDS: a GET per lookup was itself ~5% of
an order's CPU) and drop what the process holds when it moved. A template read after that GET
and stored under it is dropped by the first check after a save bumped the version, so another
process charges a saved template within CHECK_EVERY_SECONDS of the save's answer (the process
that saved it at once). Entries also age out after MAX_AGE_SECONDS, in case a save's bump was
lost (a crash between its commit and the bump, Redis down). Without a connected Redis (a
script, a test of the service alone) every lookup reads the database.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import redis.asyncio as redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

VERSION_KEY = "shipping:templates:version"
CHECK_EVERY_SECONDS = 0.05
MAX_AGE_SECONDS = 60.0
MAX_ENTRIES = 10_000  # merchants; past it the cache starts over rather than grow

T = TypeVar("T")


class VersionedCache(Generic[T]):
    """Values by merchant id, valid while the Redis version they were read under is current."""

    def __init__(self, *, check_every: float = CHECK_EVERY_SECONDS) -> None:
        self._client: redis.Redis | None = None
        self._version: bytes | None = None
        self._entries: dict[int, tuple[T, float]] = {}
        self._check_every = check_every
        self._checked_at = float("-inf")  # when the version was last read

    def connect(self, client: redis.Redis) -> None:
        """Cache through `client` (the core's, when it starts), starting empty."""
        self._client = client
        self._entries.clear()
        self._checked_at = float("-inf")

    def disconnect(self, client: redis.Redis | None = None) -> None:
        """Stop caching (for `client` only, when given: another core may have connected)."""
        if client is None or client is self._client:
            self._client = None
            self._entries.clear()

    async def get(self, key: int, load: Callable[[int], Awaitable[T]]) -> T:
        """The value for `key`, loaded from the database when not held under the current version."""
        client = self._client
        if client is None:
            return await load(key)
        now = time.monotonic()
        if now - self._checked_at >= self._check_every:
            try:
                version = await client.get(VERSION_KEY)  # before the database: see the module's docstring
            except RedisError as exc:
                log.warning("shipping templates: no version from Redis (%r); reading the database", exc)
                return await load(key)
            if version != self._version:
                self._entries.clear()
                self._version = version
            self._checked_at = now
        version = self._version
        held = self._entries.get(key)
        if held is not None and now - held[1] < MAX_AGE_SECONDS:
            return held[0]
        value = await load(key)
        if self._version == version:  # not if another lookup saw a newer version meanwhile
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (value, time.monotonic())
        return value

    async def changed(self) -> None:
        """Tell every process that what it holds is stale: call after the change committed.
        Never fails the caller (the change is done); a lost bump shows within MAX_AGE_SECONDS."""
        self._entries.clear()
        if self._client is None:
            return
        try:
            await self._client.set(VERSION_KEY, secrets.token_hex(8))  # never a version seen before
        except RedisError as exc:
            log.error(
                "shipping templates: version not bumped (%r); others see the change within %ss",
                exc,
                MAX_AGE_SECONDS,
            )
