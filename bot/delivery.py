"""Answering WeChat once, within its 5 seconds.

WeChat repeats a push (three times in all) when it has no answer within 5 seconds, and may send
the repeats to another of our processes. The first arrival claims the push in Redis and works on
it; whatever cannot be answered within ANSWER_WITHIN is answered "success" and sent afterwards as
a customer-service message. A repeat gets the same answer when it is ready, else "success" —
so a follower never receives one reply twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import redis.asyncio as redis

log = logging.getLogger(__name__)

ANSWER_WITHIN = 4.0  # seconds: WeChat gives 5, the network takes some
REMEMBER_SECONDS = 300  # a push is repeated within about 15 s; keep its answer a while longer
_PENDING, _DEFERRED, _DONE = "pending", "deferred", "done:"
_POLL = 0.05


class Once:
    def __init__(self, redis_client: redis.Redis, *, answer_within: float = ANSWER_WITHIN) -> None:
        self._redis = redis_client
        self.answer_within = answer_within
        self._late: set[asyncio.Task] = set()

    async def answer(
        self,
        key: str,
        work: Callable[[], Awaitable[str]],
        send_later: Callable[[str], Awaitable[None]],
    ) -> str:
        """The reply text to give WeChat now, or "" (answer success). Each arrival renders
        (and in safe mode encrypts) it for itself: a repeat has its own nonce."""
        if not await self._redis.set(key, _PENDING, nx=True, ex=REMEMBER_SECONDS):
            return await self._answer_of_first(key)
        task = asyncio.ensure_future(work())
        try:
            reply = await asyncio.wait_for(asyncio.shield(task), self.answer_within)
        except TimeoutError:
            await self._redis.set(key, _DEFERRED, ex=REMEMBER_SECONDS)
            late = asyncio.ensure_future(self._send_when_done(task, send_later))
            self._late.add(late)
            late.add_done_callback(self._late.discard)
            return ""
        except Exception:
            await self._redis.delete(key)  # let WeChat's repeat try again
            raise
        await self._redis.set(key, _DONE + reply, ex=REMEMBER_SECONDS)
        return reply

    async def _answer_of_first(self, key: str) -> str:
        """A repeat: the first arrival's answer if it comes in time, else success."""
        deadline = asyncio.get_running_loop().time() + self.answer_within
        while True:
            state = await self._redis.get(key)
            text = state.decode() if isinstance(state, bytes) else (state or "")
            if text.startswith(_DONE):
                return text[len(_DONE) :]
            if text != _PENDING or asyncio.get_running_loop().time() >= deadline:
                return ""
            await asyncio.sleep(_POLL)

    async def _send_when_done(
        self, task: asyncio.Future, send_later: Callable[[str], Awaitable[None]]
    ) -> None:
        try:
            reply = await task
        except Exception:
            log.exception("a late answer failed; the follower gets none")
            return
        if reply:
            await send_later(reply)

    async def close(self) -> None:
        """Let late answers finish (at shutdown)."""
        if self._late:
            await asyncio.wait(self._late, timeout=10)
