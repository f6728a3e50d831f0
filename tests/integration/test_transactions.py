"""Units of work on MariaDB: READ COMMITTED on every connection, and a deadlock re-runs the whole
unit (the outermost one only, never one that has committed), logged and counted."""

from __future__ import annotations

import asyncio
import logging

import pytest
from tortoise import Tortoise

from commerce import transactions
from commerce.catalog.models import Category
from commerce.transactions import unit_of_work, write_transaction
from tests.concurrency import needs_real_database


async def _categories() -> tuple[int, int]:
    first = await Category.create(name="甲", parent_key=0, level=1, path="/")
    second = await Category.create(name="乙", parent_key=0, level=1, path="/")
    return first.id, second.id


def _crossing_units(first: int, second: int):
    """Two units that lock the same two rows in opposite order, each waiting until the other
    holds its first row: InnoDB must pick a victim (1213) on their first run."""
    both_hold = asyncio.Barrier(2)
    runs: list[str] = []

    async def lock_then(conn, a: int, b: int, name: str) -> None:
        runs.append(name)
        await Category.filter(id=a).using_db(conn).update(name=f"{name}-1")
        if runs.count(name) == 1:  # only the first run waits for the other to cross
            await asyncio.wait_for(both_hold.wait(), 5)
        await Category.filter(id=b).using_db(conn).update(name=f"{name}-2")

    @unit_of_work
    async def forward() -> None:
        async with write_transaction() as conn:
            await lock_then(conn, first, second, "forward")

    @unit_of_work
    async def backward() -> None:
        async with write_transaction() as conn:
            await lock_then(conn, second, first, "backward")

    return forward, backward, runs


@needs_real_database
async def test_every_connection_reads_committed(db):
    # when any pooled connection is asked for its isolation level
    conn = Tortoise.get_connection("default")
    levels = await asyncio.gather(
        *(conn.execute_query_dict("SELECT @@tx_isolation AS level") for _ in range(5))
    )
    # then it is READ COMMITTED (the server's default is REPEATABLE READ)
    assert {rows[0]["level"] for rows in levels} == {"READ-COMMITTED"}


@needs_real_database
async def test_a_deadlocked_unit_runs_again_and_both_finish(db, caplog):
    first, second = await _categories()
    forward, backward, runs = _crossing_units(first, second)
    retried = transactions.lock_conflict_retries()
    # when two units deadlock
    with caplog.at_level(logging.WARNING, logger="commerce.transactions"):
        await asyncio.gather(forward(), backward())
    # then the victim ran again from the top, and both changes are there
    assert sorted(runs) == ["backward", "backward", "forward"] or sorted(runs) == [
        "backward",
        "forward",
        "forward",
    ]
    assert transactions.lock_conflict_retries() == retried + 1
    names = set(await Category.filter(id__in=[first, second]).values_list("name", flat=True))
    assert names in ({"forward-2", "forward-1"}, {"backward-2", "backward-1"})
    [line] = [r.getMessage() for r in caplog.records if "lock conflict" in r.getMessage()]
    assert "_crossing_units.<locals>." in line and "attempt 1 of 4" in line


@needs_real_database
async def test_only_the_outermost_unit_retries(db):
    first, second = await _categories()
    forward, backward, runs = _crossing_units(first, second)
    outer_runs: list[str] = []

    @unit_of_work
    async def outer_forward() -> None:
        outer_runs.append("forward")
        await forward()

    @unit_of_work
    async def outer_backward() -> None:
        outer_runs.append("backward")
        await backward()

    # when units called inside other units deadlock
    await asyncio.gather(outer_forward(), outer_backward())
    # then the outer unit of the victim ran again (once), its inner one only with it
    assert len(outer_runs) == 3 and len(runs) == 3


async def test_a_unit_that_committed_is_not_run_again(db):
    runs = 0

    @unit_of_work
    async def commit_then_fail() -> None:
        nonlocal runs
        runs += 1
        async with write_transaction():
            await Category.create(name="丙", parent_key=0, level=1, path="/")
        raise _deadlock()

    # when a conflict comes after the unit committed
    with pytest.raises(Exception, match="1213"):
        await commit_then_fail()
    # then it ran once: the committed work is not done twice
    assert runs == 1 and await Category.filter(name="丙").count() == 1


async def test_a_unit_gives_up_after_its_attempts(db):
    runs = 0

    @unit_of_work
    async def always_deadlocks() -> None:
        nonlocal runs
        runs += 1
        raise _deadlock()

    with pytest.raises(Exception, match="1213"):
        await always_deadlocks()
    assert runs == transactions.ATTEMPTS


async def test_a_write_transaction_outside_a_unit_is_refused(db):
    with pytest.raises(RuntimeError, match="unit of work"):
        async with write_transaction():
            pass


def _deadlock() -> Exception:
    """What Tortoise raises for InnoDB's 1213: its OperationalError around the driver's."""
    from asyncmy.errors import OperationalError as DriverError
    from tortoise.exceptions import OperationalError

    return OperationalError(
        DriverError(1213, "Deadlock found when trying to get lock; try restarting transaction")
    )


def test_no_write_transaction_bypasses_the_units_of_work():
    # tortoise's own transactions would not retry: only commerce/transactions.py may open them
    from pathlib import Path

    import commerce

    root = Path(commerce.__file__).parent
    bypassing = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "transactions.py"
        and ("in_transaction" in path.read_text() or "atomic(" in path.read_text())
    ]
    assert bypassing == []
