"""The outbox: written with the change, delivered after commit, re-delivered after failures."""

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from commerce import clock, outbox
from commerce.outbox import OutboxEvent


@pytest.fixture
def received():
    seen: list[dict] = []

    async def handler(payload: dict) -> None:
        await asyncio.sleep(0)  # let racing deliverers interleave
        seen.append(payload)

    outbox.subscribe("test.happened", handler)
    yield seen
    outbox.unsubscribe_all()


async def test_an_event_of_a_rolled_back_transaction_never_exists(db, received):
    # when the transaction that emitted fails
    with pytest.raises(RuntimeError):
        async with in_transaction() as conn:
            await outbox.emit("test.happened", {"n": 1}, connection=conn)
            raise RuntimeError("business rule failed")
    # then there is nothing to deliver
    assert await OutboxEvent.all().count() == 0
    assert await outbox.deliver_pending() == 0
    assert received == []


async def test_committed_events_are_delivered_once(db, received):
    # given
    async with in_transaction() as conn:
        event = await outbox.emit("test.happened", {"n": 1}, connection=conn)
    # when delivered promptly, and the relay passes afterwards
    await outbox.deliver([event])
    await outbox.deliver_pending()
    # then
    assert received == [{"n": 1}]
    assert (await OutboxEvent.get(id=event.id)).delivered_at is not None


async def test_an_event_left_behind_by_a_crash_is_delivered_by_the_relay(db, received):
    # given a committed event whose process died before delivering it
    async with in_transaction() as conn:
        await outbox.emit("test.happened", {"n": 2}, connection=conn)
    # when the relay runs
    stop = asyncio.Event()
    relay = asyncio.create_task(outbox.run_relay(stop, interval=0.01))
    for _ in range(200):
        if received:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await relay
    # then
    assert received == [{"n": 2}]


async def test_a_failing_handler_is_retried_later_with_backoff(db):
    calls: list[dict] = []

    async def flaky(payload: dict) -> None:
        calls.append(payload)
        if len(calls) == 1:
            raise ConnectionError("WeChat is down")

    outbox.subscribe("test.flaky", flaky)
    start = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
    try:
        with clock.frozen(start) as frozen:
            async with in_transaction() as conn:
                event = await outbox.emit("test.flaky", {"n": 3}, connection=conn)
            # when the first attempt fails
            await outbox.deliver([event])
            failed = await OutboxEvent.get(id=event.id)
            assert failed.delivered_at is None
            assert "WeChat is down" in failed.last_error
            # then it is not retried before its backoff ends
            assert await outbox.deliver_pending() == 0
            frozen.advance(timedelta(seconds=3))
            assert await outbox.deliver_pending() == 1
    finally:
        outbox.unsubscribe_all()
    assert len(calls) == 2
    assert (await OutboxEvent.get(id=event.id)).attempts == 2


async def test_racing_relays_deliver_each_event_exactly_once(db, received):
    # given 30 committed events
    async with in_transaction() as conn:
        for n in range(30):
            await outbox.emit("test.happened", {"n": n}, connection=conn)
    # when four relays (think: four processes) race over them
    await asyncio.gather(*(outbox.deliver_pending() for _ in range(4)))
    # then every event was handled once, none twice
    counts = Counter(payload["n"] for payload in received)
    assert sorted(counts) == list(range(30))
    assert set(counts.values()) == {1}
    assert await OutboxEvent.filter(delivered_at=None).count() == 0


async def test_events_nobody_listens_to_are_closed_by_the_relay(db):
    async with in_transaction() as conn:
        event = await outbox.emit("nobody.listens", {"n": 1}, connection=conn)
    await outbox.deliver([event])  # the fast path leaves it
    assert (await OutboxEvent.get(id=event.id)).delivered_at is None
    assert await outbox.deliver_pending() == 1
    assert (await OutboxEvent.get(id=event.id)).delivered_at is not None
