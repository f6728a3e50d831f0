"""Starting and stopping the core: a start that fails part-way leaves nothing behind."""

import asyncio
import contextlib
import contextvars

import pytest
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from commerce.core import Core
from commerce.db import close_db, fetch_rows, init_db
from commerce.health import readiness
from shop.subscriptions import subscribers
from tests.concurrency import needs_real_database


def on_its_own(coroutine):
    """Run as a task of its own context, as an earlier process start or test would."""
    return asyncio.create_task(coroutine, context=contextvars.Context())


async def test_a_core_that_failed_to_start_can_be_started_again(wired_settings, tmp_path, empty_database):
    # A worker started before `shop migrate`: the database answers, the search index cannot load.
    unmigrated = wired_settings.model_copy(
        update={"database_url": f"sqlite://{tmp_path / 'unmigrated.sqlite3'}"}
    )
    with pytest.raises(OperationalError, match="no such table"):
        await on_its_own(Core(unmigrated, subscribers).start())

    # Its connection was closed on the way out: the next start (the supervisor's restart, once
    # the schema is there) is not refused as "already connected".
    core = Core(wired_settings, subscribers)
    await core.start()
    try:
        checks = (await readiness(redis_client=core.redis, search=core.search)).checks
        assert checks["database"] == checks["redis"] == checks["search_index"] == "ok"
    finally:
        await core.close()


@needs_real_database
async def test_closing_cuts_a_connection_that_is_never_given_back(settings, db):
    """A task stuck in a transaction (waiting on something that never comes) must not keep the
    process from stopping: the pool's close would wait for that connection forever."""
    in_use = asyncio.Event()

    async def stuck_in_a_transaction():
        async with in_transaction() as connection:
            await connection.execute_query("SELECT 1")
            in_use.set()
            await asyncio.Event().wait()

    stuck = asyncio.create_task(stuck_in_a_transaction())
    await in_use.wait()
    await asyncio.wait_for(close_db(grace_seconds=0.2), timeout=10)

    await init_db(settings)  # the process (or its restart) connects again
    assert await fetch_rows("SELECT 1 AS one", []) == [{"one": 1}]
    stuck.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):  # its connection was cut
        await stuck
