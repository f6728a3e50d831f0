"""Units of work: every write transaction, re-run whole on a deadlock or lock-wait timeout.

InnoDB picks a victim when two transactions wait for each other (1213) and gives up on a lock
after innodb_lock_wait_timeout (1205); either way the transaction is rolled back and nothing of
it stays, so running the whole unit again is the answer (MySQL's own advice). Policy: at most
ATTEMPTS runs, sleeping a random share of an exponentially growing delay between them ("full
jitter"), so that the colliding units do not meet again; each retry is logged with the unit's
name and counted process-wide.

A service that writes is decorated with `@unit_of_work` and opens its transaction with
`write_transaction()` (never tortoise's `in_transaction`); `write_transaction()` refuses to run
outside a unit, so a transaction that would not retry cannot be written. Only the outermost
unit retries: a unit called inside another runs once, and its conflict re-runs the outer one.
A conflict after the unit has committed something is not retried (that work is done;
re-running it would do it twice).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from tortoise.transactions import in_transaction

log = logging.getLogger(__name__)

ATTEMPTS = 4
BASE_DELAY = 0.02  # seconds; the n-th retry sleeps up to BASE_DELAY * 2**n
LOCK_DEADLOCK = 1213  # ER_LOCK_DEADLOCK
LOCK_WAIT_TIMEOUT = 1205  # ER_LOCK_WAIT_TIMEOUT
_CONFLICTS = frozenset({LOCK_DEADLOCK, LOCK_WAIT_TIMEOUT})

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _Unit:
    name: str
    depth: int = 0  # open write_transaction() blocks
    committed: bool = False  # an outermost transaction of this run has committed


_current: ContextVar[_Unit | None] = ContextVar("commerce_unit_of_work", default=None)
_retries = 0


def lock_conflict_retries() -> int:
    """How many times this process re-ran a unit of work after a lock conflict."""
    return _retries


def is_lock_conflict(exc: BaseException) -> bool:
    """A deadlock or lock-wait timeout, however the driver and Tortoise wrapped it."""
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if item.args and isinstance(item.args[0], int) and item.args[0] in _CONFLICTS:
            return True
        pending += [*item.args, item.__cause__, item.__context__]
    return False


def unit_of_work(func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Run `func` as one unit of work, re-run from the top on a lock conflict.

    `func` must be safe to run again: everything it did before the conflict was in the
    transaction that was rolled back (or was a read).
    """
    name = func.__qualname__

    @functools.wraps(func)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        global _retries
        if _current.get() is not None:  # inside another unit: that one retries
            return await func(*args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            unit = _Unit(name)
            token = _current.set(unit)
            try:
                return await func(*args, **kwargs)
            except Exception as exc:
                if attempt == ATTEMPTS or unit.committed or not is_lock_conflict(exc):
                    raise
                _retries += 1
                delay = random.uniform(0, BASE_DELAY * 2**attempt)  # jitter, not secrecy
                log.warning(
                    "lock conflict in %s (attempt %d of %d), retrying in %.0f ms: %s",
                    name,
                    attempt,
                    ATTEMPTS,
                    delay * 1000,
                    exc,
                )
            finally:
                _current.reset(token)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    return run


@asynccontextmanager
async def write_transaction() -> AsyncIterator[Any]:
    """The unit's transaction (a savepoint when nested); yields the connection."""
    unit = _current.get()
    if unit is None:
        raise RuntimeError("a write transaction outside a unit of work: decorate its service @unit_of_work")
    unit.depth += 1
    try:
        async with in_transaction() as conn:
            yield conn
        if unit.depth == 1:
            unit.committed = True
    finally:
        unit.depth -= 1


async def detached(func: Callable[[], Awaitable[R]]) -> R:
    """Run `func` outside the caller's unit (work that follows its commit, such as delivering
    outbox events): the units it calls retry on their own."""
    token = _current.set(None)
    try:
        return await func()
    finally:
        _current.reset(token)
