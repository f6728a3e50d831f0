"""A signed query belongs to one body.

WeChat's query signature sha1(token, timestamp, nonce) covers no body, so whoever reads one
query (an access log, a proxy) could send other words with it while its timestamp is accepted.
The first body a query arrives with is remembered in Redis (shared by every process) for as
long as the query could be accepted; the same query with another body is refused, the same body
again is WeChat's retry.
"""

from __future__ import annotations

import hashlib
from typing import Any

import redis.asyncio as redis

from bot.protocol import REPLAY_WINDOW_SECONDS

# A timestamp is accepted from 300 s before our clock to 300 s after it.
REMEMBER_SECONDS = 2 * REPLAY_WINDOW_SECONDS + 60


class SignedQueries:
    def __init__(self, redis_client: redis.Redis) -> None:
        self._redis = redis_client

    async def claim(self, query: Any, method: str, body: bytes) -> bool:
        """Whether this request may be answered under its signed query: the first request it
        came with, or that same request again."""
        signed = f"{query.get('timestamp', '')}\n{query.get('nonce', '')}".encode()
        key = "mp:query:" + hashlib.sha256(signed).hexdigest()
        digest = hashlib.sha256(method.encode() + b"\n" + body).hexdigest().encode()
        for _ in range(2):  # the first holder may expire between our two calls
            if await self._redis.set(key, digest, nx=True, ex=REMEMBER_SECONDS):
                return True
            seen = await self._redis.get(key)
            if seen is not None:
                return (seen if isinstance(seen, bytes) else str(seen).encode()) == digest
        return False
