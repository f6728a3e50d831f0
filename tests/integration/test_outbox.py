"""The outbox: typed events written with the change, delivered after commit once per subscriber,
re-delivered after failures to the failing subscriber alone."""

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from tortoise.transactions import in_transaction

from commerce import clock, outbox
from commerce.events import Event
from commerce.orders.events import OrderStatusChanged
from commerce.orders.states import OrderStatus
from commerce.outbox import OutboxDelivery, OutboxEvent, Subscriber, Subscriptions
from commerce.payments.events import PaymentReturned


@dataclass(frozen=True)
class Happened(Event):
    topic: ClassVar[str] = "test.happened"
    n: int


@dataclass(frozen=True)
class Flaky(Event):
    topic: ClassVar[str] = "test.flaky"
    n: int


@pytest.fixture
def listen():
    """Install a subscription table for the test (the core installs the service's at start)."""

    def install(*subscribers: Subscriber) -> None:
        outbox.install(Subscriptions(subscribers))

    yield install
    outbox.uninstall()


@pytest.fixture
def received(listen):
    seen: list[Happened] = []

    async def handler(event: Happened) -> None:
        await asyncio.sleep(0)  # let racing deliverers interleave
        seen.append(event)

    listen(Subscriber("test.recorder", Happened, handler))
    return seen


async def _emit(event: Event) -> OutboxEvent:
    async with in_transaction() as conn:
        return await outbox.emit(event, connection=conn)


async def _deliveries(event_id: int) -> dict[str, tuple[int, bool, str]]:
    rows = await OutboxDelivery.filter(event_id=event_id).values_list(
        "subscriber", "attempts", "delivered_at", "last_error"
    )
    return {name: (attempts, delivered is not None, error) for name, attempts, delivered, error in rows}


async def test_an_event_of_a_rolled_back_transaction_never_exists(db, received):
    # when the transaction that emitted fails
    with pytest.raises(RuntimeError):
        async with in_transaction() as conn:
            await outbox.emit(Happened(n=1), connection=conn)
            raise RuntimeError("business rule failed")
    # then there is nothing to deliver
    assert await OutboxEvent.all().count() == 0
    assert await outbox.deliver_pending() == 0
    assert received == []


async def test_committed_events_are_delivered_once_as_the_typed_event(db, received):
    # given
    event = await _emit(Happened(n=1))
    # when delivered promptly, and the relay passes afterwards
    await outbox.deliver([event])
    await outbox.deliver_pending()
    # then the subscriber got the dataclass back, once, and its delivery is recorded
    assert received == [Happened(n=1)]
    assert (await OutboxEvent.get(id=event.id)).delivered_at is not None
    assert await _deliveries(event.id) == {"test.recorder": (1, True, "")}


async def test_emit_takes_only_typed_events(db):
    async with in_transaction() as conn:
        with pytest.raises(TypeError):
            await outbox.emit("test.happened", connection=conn)  # type: ignore[arg-type]


async def test_an_event_left_behind_by_a_crash_is_delivered_by_the_relay(db, received):
    # given a committed event whose process died before delivering it
    await _emit(Happened(n=2))
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
    assert received == [Happened(n=2)]


async def test_a_failing_handler_is_retried_later_with_backoff(db, listen):
    calls: list[Flaky] = []

    async def flaky(event: Flaky) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise ConnectionError("WeChat is down")

    listen(Subscriber("test.flaky", Flaky, flaky))
    start = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
    with clock.frozen(start) as frozen:
        event = await _emit(Flaky(n=3))
        # when the first attempt fails
        await outbox.deliver([event])
        failed = await OutboxEvent.get(id=event.id)
        assert failed.delivered_at is None
        assert "WeChat is down" in failed.last_error
        # then it is not retried before its backoff ends
        assert await outbox.deliver_pending() == 0
        frozen.advance(timedelta(seconds=3))
        assert await outbox.deliver_pending() == 1
    assert len(calls) == 2
    assert await _deliveries(event.id) == {"test.flaky": (2, True, "")}


async def test_a_failing_subscriber_is_retried_alone_and_the_others_run_once(db, listen):
    # given two subscribers of one event, one of which fails twice
    ran: Counter[str] = Counter()

    async def steady(event: Happened) -> None:
        ran["steady"] += 1

    async def failing(event: Happened) -> None:
        ran["failing"] += 1
        if ran["failing"] <= 2:
            raise ConnectionError("WeChat is down")

    listen(Subscriber("test.steady", Happened, steady), Subscriber("test.failing", Happened, failing))
    start = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
    with clock.frozen(start) as frozen:
        event = await _emit(Happened(n=1))
        # when it is delivered after commit
        await outbox.deliver([event])
        # then the steady one has it, the failing one waits for its backoff (2 s)
        assert ran == {"steady": 1, "failing": 1}
        assert await _deliveries(event.id) == {
            "test.steady": (1, True, ""),
            "test.failing": (1, False, "ConnectionError('WeChat is down')"),
        }
        row = await OutboxEvent.get(id=event.id)
        assert row.delivered_at is None and row.available_at == start + timedelta(seconds=2)
        assert row.last_error == "test.failing: ConnectionError('WeChat is down')"
        # when the relay passes before, at and after each backoff (2 s, then 4 s)
        assert await outbox.deliver_pending() == 0
        for seconds in (2, 1, 3):
            frozen.advance(timedelta(seconds=seconds))
            await outbox.deliver_pending()
        # then only the failing one ran again, until it succeeded; the steady one ran once
        assert ran == {"steady": 1, "failing": 3}
        assert await _deliveries(event.id) == {"test.steady": (1, True, ""), "test.failing": (3, True, "")}
        assert (await OutboxEvent.get(id=event.id)).delivered_at is not None
        # and nothing runs again later
        frozen.advance(timedelta(hours=1))
        assert await outbox.deliver_pending() == 0
    assert ran == {"steady": 1, "failing": 3}


async def test_a_subscriber_gets_only_the_events_it_asked_for(db, listen):
    shipped: list[int] = []

    async def upload(event: OrderStatusChanged) -> None:
        shipped.append(event.order_id)

    listen(
        Subscriber(
            "test.upload", OrderStatusChanged, upload, when=lambda e: e.to_status is OrderStatus.SHIPPED
        )
    )
    paid = await _emit(
        OrderStatusChanged(order_id=1, from_status=OrderStatus.PENDING_PAYMENT, to_status=OrderStatus.PAID)
    )
    sent = await _emit(
        OrderStatusChanged(order_id=1, from_status=OrderStatus.PAID, to_status=OrderStatus.SHIPPED)
    )
    await outbox.deliver([paid, sent])
    assert shipped == [1]
    # the event nobody wanted is closed without a delivery row
    assert await _deliveries(paid.id) == {}
    assert (await OutboxEvent.get(id=paid.id)).delivered_at is not None


async def test_rows_written_before_events_were_typed_still_deliver(db, listen):
    # given rows as the previous version wrote them (plain topic and payload, no delivery rows)
    got: list[Event] = []

    async def record(event: Event) -> None:
        got.append(event)

    listen(
        Subscriber("test.status", OrderStatusChanged, record),
        Subscriber("test.returned", PaymentReturned, record),
    )
    now = clock.now()
    old = {"created_at": now, "available_at": now, "attempts": 2, "last_error": "ConnectionError()"}
    await OutboxEvent.create(
        topic="order.status_changed", payload={"order_id": 7, "from": "paid", "to": "shipped"}, **old
    )
    await OutboxEvent.create(
        topic="payment.returned",
        payload={"order_id": 7, "user_id": 3, "amount": 1990, "reason": "订单已支付，重复付款原路退回"},
        **old,
    )
    # when the relay passes
    assert await outbox.deliver_pending() == 2
    # then each subscriber got the typed event, with what the old payload said
    assert got == [
        OrderStatusChanged(order_id=7, from_status=OrderStatus.PAID, to_status=OrderStatus.SHIPPED),
        PaymentReturned(
            order_id=7, user_id=3, amount=1990, reason="订单已支付，重复付款原路退回", paid_twice=True
        ),
    ]
    assert await OutboxEvent.filter(delivered_at=None).count() == 0


async def test_racing_relays_deliver_each_event_to_each_subscriber_exactly_once(db, listen):
    seen: list[tuple[str, int]] = []

    def recorder(name: str):
        async def handle(event: Happened) -> None:
            await asyncio.sleep(0)  # let racing deliverers interleave
            seen.append((name, event.n))

        return Subscriber(name, Happened, handle)

    listen(recorder("test.a"), recorder("test.b"))
    # given 30 committed events
    async with in_transaction() as conn:
        for n in range(30):
            await outbox.emit(Happened(n=n), connection=conn)
    # when four relays (think: four processes) race over them
    await asyncio.gather(*(outbox.deliver_pending() for _ in range(4)))
    # then every event reached each subscriber once, none twice
    counts = Counter(seen)
    assert sorted(counts) == sorted((name, n) for name in ("test.a", "test.b") for n in range(30))
    assert set(counts.values()) == {1}
    assert await OutboxEvent.filter(delivered_at=None).count() == 0
    assert await OutboxDelivery.filter(delivered_at=None).count() == 0
    assert await OutboxDelivery.all().count() == 60


async def test_events_nobody_listens_to_are_closed_by_the_relay(db):
    event = await _emit(Happened(n=1))
    await outbox.deliver([event])  # the fast path leaves it
    assert (await OutboxEvent.get(id=event.id)).delivered_at is None
    assert await outbox.deliver_pending() == 1
    assert (await OutboxEvent.get(id=event.id)).delivered_at is not None
    assert await OutboxDelivery.all().count() == 0


def test_a_table_refuses_two_subscribers_of_one_name_for_one_event():
    async def handle(event: Happened) -> None:
        return None

    with pytest.raises(ValueError, match="two subscribers"):
        Subscriptions([Subscriber("x", Happened, handle), Subscriber("x", Happened, handle)])
