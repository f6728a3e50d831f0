"""Is this process ready to serve: the checks a load balancer's /readyz asks for, and the
database facts the metrics scrape reads (the outbox backlog, the connection pool's use).

Each check answers "ok" or says what is wrong in a few words (no secrets, no URLs): the
readiness answer names the failing ones.
"""

from __future__ import annotations

import asyncio
import functools
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

import redis.asyncio as redis
from tortoise import Tortoise
from tortoise.migrations.recorder import MigrationRecorder

from commerce import clock, outbox
from commerce.catalog.search import CatalogSearch
from commerce.db import APP_LABEL, MIGRATIONS_MODULE

OK = "ok"
CHECK_TIMEOUT = 2.0  # seconds: a dependency slower than this is as good as down to a balancer


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]  # check -> "ok" or what is wrong

    @property
    def ready(self) -> bool:
        return all(result == OK for result in self.checks.values())

    @property
    def failing(self) -> list[str]:
        return [name for name, result in self.checks.items() if result != OK]


async def readiness(
    *, redis_client: redis.Redis, search: CatalogSearch | None, serves_search: bool = True
) -> Readiness:
    """Run every check at once, each within CHECK_TIMEOUT. A process that answers no search
    (`shop scheduler`) is ready without an index."""
    checks: dict[str, Callable[[], Awaitable[str]]] = {
        "database": _database,
        "redis": lambda: _redis(redis_client),
        "migrations": _migrations,
    }
    if serves_search:
        checks["search_index"] = lambda: _search_index(search)
    results = await asyncio.gather(*(_bounded(check) for check in checks.values()))
    return Readiness(dict(zip(checks, results, strict=True)))


async def _bounded(check: Callable[[], Awaitable[str]]) -> str:
    try:
        return await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT)
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT:g}s"
    except Exception as exc:  # any failure of a dependency is "not ready", named by its type
        return f"unavailable: {type(exc).__name__}"


async def _database() -> str:
    await Tortoise.get_connection("default").execute_query("SELECT 1")
    return OK


async def _redis(client: redis.Redis) -> str:
    await client.ping()
    return OK


async def _migrations() -> str:
    """Every migration file applied (as `shop migrate` records them in tortoise_migrations).
    A new worker on an old schema would fail on its first query: not ready until migrated."""
    applied = await MigrationRecorder(Tortoise.get_connection("default")).applied_migrations()
    done = {key.name for key in applied if key.app_label == APP_LABEL}
    pending = [name for name in migration_files() if name not in done]
    if pending:
        return f"{len(pending)} pending, from {pending[0]}"
    return OK


@functools.cache
def migration_files() -> tuple[str, ...]:
    """The migrations on disk, named as Tortoise's loader names them (read once: the files do
    not change under a running process)."""
    module = import_module(MIGRATIONS_MODULE)
    return tuple(
        sorted(
            name
            for _, name, is_package in pkgutil.iter_modules(module.__path__)
            if not is_package and name[0] not in "_~"
        )
    )


async def _search_index(search: CatalogSearch | None) -> str:
    return OK if search is not None and search.loaded else "not built yet"


# --- for the metrics scrape ------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriberBacklog:
    subscriber: str
    pending: int
    oldest_age_seconds: float  # 0 when nothing is pending


async def outbox_backlog() -> list[SubscriberBacklog]:
    now = clock.now()
    return [
        SubscriberBacklog(
            subscriber=row.subscriber,
            pending=row.pending,
            oldest_age_seconds=max((now - row.oldest).total_seconds(), 0.0) if row.oldest else 0.0,
        )
        for row in await outbox.backlog()
    ]


@dataclass(frozen=True)
class PoolUse:
    in_use: int
    size: int  # connections open (in use or idle)
    max_size: int


def database_pool() -> PoolUse | None:
    """The MySQL pool's connections in use in this process (asyncmy's pool: size - free);
    None on SQLite, where Tortoise keeps one connection and no pool."""
    try:
        connection: Any = Tortoise.get_connection("default")
    except Exception:  # not connected (yet, or any more)
        return None
    pool = getattr(connection, "_pool", None)
    if pool is None or not hasattr(pool, "freesize"):
        return None
    return PoolUse(in_use=pool.size - pool.freesize, size=pool.size, max_size=pool.maxsize)
