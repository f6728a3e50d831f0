"""The transactional outbox: events written with the change, delivered after commit, once per
subscriber.

A service appends a typed event (`commerce.events.Event`) inside its transaction (`emit`: one
INSERT). After the commit it may ask for prompt delivery (`deliver`), and a relay loop
(`run_relay`) re-delivers whatever is left: a crash between commit and delivery, a failing
subscriber. Who listens is one table the composition root installs at start (`install`).

Delivery is recorded per subscriber in `outbox_delivery`, one row per (event, subscriber),
created lazily when the event is first delivered (placing an order writes its one event row and
nothing more; an event nobody listens to never gets delivery rows). A failing subscriber is
retried alone with its own backoff; the others are never run again. An event is delivered
(`outbox_event.delivered_at`) when each of its subscribers has it; until then its
`available_at` says when the relay should look at it next (its earliest subscriber due).

Both levels are claimed with a conditional update and a lease, so several processes may run
the fast path and relays at once: a subscriber runs again only after a failure or after its
lease ran out (a crash). Subscribers must be idempotent: at least once, never zero times.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from tortoise import Tortoise, fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F, Q
from tortoise.models import Model

from commerce import clock
from commerce.db import execute, fetch_rows, insert
from commerce.events import Event
from commerce.transactions import detached, unit_of_work

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)  # a claimed event or delivery is retried by others after this
MAX_BACKOFF = timedelta(minutes=10)


class OutboxEvent(Model):
    id = fields.BigIntField(primary_key=True)
    topic = fields.CharField(max_length=64)
    payload: dict[str, Any] = fields.JSONField()
    created_at = fields.DatetimeField()
    # Not before this time: the lease of a claim, or its earliest subscriber's backoff.
    available_at = fields.DatetimeField(db_index=True)
    attempts = fields.IntField(default=0)  # passes over the event (fast path and relay)
    delivered_at = fields.DatetimeField(null=True, db_index=True)  # every subscriber has it
    last_error = fields.CharField(max_length=500, default="")  # the latest failing subscriber's

    class Meta:
        table = "outbox_event"


class OutboxDelivery(Model):
    """The delivery of one event to one subscriber."""

    id = fields.BigIntField(primary_key=True)
    event: fields.ForeignKeyRelation[OutboxEvent] = fields.ForeignKeyField(
        "models.OutboxEvent", related_name="deliveries", on_delete=fields.CASCADE
    )
    event_id: int
    subscriber = fields.CharField(max_length=64)
    available_at = fields.DatetimeField()  # not before: a claim's lease, or the backoff
    attempts = fields.IntField(default=0)
    delivered_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, default="")

    class Meta:
        table = "outbox_delivery"
        unique_together = (("event", "subscriber"),)


E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Subscriber(Generic[E]):
    """A named listener of one event class. The name is stored with its deliveries: keep it
    stable. `when` narrows which events of the class it gets (decided once, at fan-out)."""

    name: str
    event: type[E]
    handle: Callable[[E], Awaitable[object]]
    when: Callable[[E], bool] | None = None

    def wants(self, event: E) -> bool:
        return self.when is None or self.when(event)


class Subscriptions:
    """Who listens to what: subscribers by topic."""

    def __init__(self, subscribers: Iterable[Subscriber[Any]] = ()) -> None:
        self._by_topic: dict[str, list[Subscriber[Any]]] = {}
        for subscriber in subscribers:
            listeners = self._by_topic.setdefault(subscriber.event.topic, [])
            if any(other.name == subscriber.name for other in listeners):
                raise ValueError(f"two subscribers named {subscriber.name} for {subscriber.event.topic}")
            if listeners and listeners[0].event is not subscriber.event:
                raise ValueError(f"two event classes for the topic {subscriber.event.topic}")
            listeners.append(subscriber)

    def of(self, topic: str) -> list[Subscriber[Any]]:
        return self._by_topic.get(topic, [])


_subscriptions = Subscriptions()


def install(subscriptions: Subscriptions) -> None:
    """Make this the process's table (the core does it at start, from the composition root's)."""
    global _subscriptions
    _subscriptions = subscriptions


def uninstall() -> None:
    install(Subscriptions())


async def emit(event: Event, *, connection: BaseDBAsyncClient) -> OutboxEvent:
    """Append an event inside the caller's transaction (every order writes one: a plain
    INSERT, not the ORM's create)."""
    if not isinstance(event, Event):
        raise TypeError(f"outbox.emit takes an event dataclass, not {type(event).__name__}")
    at = clock.now()
    row = {
        "topic": event.topic,
        "payload": event.payload(),
        "created_at": at,
        "available_at": at,
        "attempts": 0,
        "delivered_at": None,
        "last_error": "",
    }
    event_id = await insert(OutboxEvent._meta.db_table, row, connection=connection)
    return OutboxEvent(id=event_id, **row)


async def deliver(events: Iterable[OutboxEvent | None]) -> None:
    """Deliver just-committed events now (the fast path); the relay covers failures.

    Events nobody listens to are left for the relay, which closes them in bulk.
    """
    for event in events:
        if event is not None and _subscriptions.of(event.topic):
            # After the caller's commit: each subscriber's services are units of their own.
            await detached(lambda event_id=event.id: _deliver_event(event_id))


async def deliver_pending(limit: int = 100) -> int:
    """Deliver due events; return how many became delivered. Safe in several processes."""
    due = (
        await OutboxEvent.filter(delivered_at=None, available_at__lte=clock.now())
        .order_by("id")
        .limit(limit)
        .values_list("id", "topic")
    )
    unheard = [event_id for event_id, topic in due if not _subscriptions.of(topic)]
    delivered = 0
    if unheard:  # no subscriber (yet) for these topics: nothing to do but close them
        delivered += await _update_events(Q(id__in=unheard, delivered_at=None), delivered_at=clock.now())
    for event_id, topic in due:
        if _subscriptions.of(topic):
            delivered += await _deliver_event(event_id)
    return delivered


async def _deliver_event(event_id: int) -> int:
    """One pass over an event: hand it to each subscriber due; 1 if it is delivered now."""
    at = clock.now()
    # Claim with a conditional update: one process at a time works on an event (mostly; the
    # deliveries' own claims make sure of each subscriber).
    claimed = await _update_events(
        Q(id=event_id, delivered_at=None, available_at__lte=at),
        available_at=at + LEASE,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return 0
    row = await OutboxEvent.get(id=event_id)
    listeners = {subscriber.name: subscriber for subscriber in _subscriptions.of(row.topic)}
    try:
        event = next(iter(listeners.values())).event.from_payload(row.payload)
    except Exception as exc:  # a payload this code cannot read: staff see it, it waits
        log.error("outbox event %s (%s) unreadable: %r", row.id, row.topic, exc)
        await _update_events(Q(id=row.id), available_at=at + MAX_BACKOFF, last_error=repr(exc)[:500])
        return 0
    await _fan_out(row.id, [name for name, s in listeners.items() if s.wants(event)], at)
    # In the table's order (the rows were made in it): MariaDB would otherwise read them in
    # the unique index's, by subscriber name.
    due = (
        await OutboxDelivery.filter(event_id=row.id, delivered_at=None, available_at__lte=at)
        .order_by("id")
        .values_list("id", "subscriber", "attempts")
    )
    for delivery_id, name, attempts in due:
        subscriber = listeners.get(name)
        if subscriber is None:  # removed from the table since: nobody is left to deliver it to
            await _update_deliveries(Q(id=delivery_id), delivered_at=at, last_error="subscriber removed")
            continue
        await _deliver_to(subscriber, event, row, delivery_id, attempts)
    return await _close_if_done(row.id)


# The delivery a subscriber's handler runs in, "<event id>:<subscriber>": the same on every
# attempt, so what a handler does outside the database (a message sent) can be done once.
_delivering: ContextVar[str | None] = ContextVar("outbox_delivering", default=None)


def current_delivery() -> str | None:
    """The event delivery under way in this task ("<event id>:<subscriber>"), if any."""
    return _delivering.get()


async def _deliver_to(
    subscriber: Subscriber[Any], event: Event, row: OutboxEvent, delivery_id: int, attempts: int
) -> None:
    at = clock.now()
    claimed = await _update_deliveries(
        Q(id=delivery_id, delivered_at=None, available_at__lte=at),
        available_at=at + LEASE,
        attempts=F("attempts") + 1,
    )
    if not claimed:  # another process has it
        return
    token = _delivering.set(f"{row.id}:{subscriber.name}")
    try:
        await subscriber.handle(event)
    except Exception as exc:  # this subscriber tries again later, alone
        backoff = min(timedelta(seconds=2 ** (attempts + 1)), MAX_BACKOFF)
        error = repr(exc)[:500]
        log.warning("outbox event %s (%s) failed for %s: %s", row.id, row.topic, subscriber.name, error)
        await _update_deliveries(Q(id=delivery_id), available_at=clock.now() + backoff, last_error=error)
        await _update_events(Q(id=row.id), last_error=f"{subscriber.name}: {error}"[:500])
        return
    finally:
        _delivering.reset(token)
    await _update_deliveries(Q(id=delivery_id), delivered_at=clock.now(), last_error="")


async def _close_if_done(event_id: int) -> int:
    """Mark the event delivered when no subscriber waits for it, else due when the first does."""
    waiting: list[datetime] = await OutboxDelivery.filter(event_id=event_id, delivered_at=None).values_list(
        "available_at", flat=True
    )
    if waiting:
        await _update_events(Q(id=event_id, delivered_at=None), available_at=min(waiting))
        return 0
    return await _update_events(Q(id=event_id, delivered_at=None), delivered_at=clock.now(), last_error="")


@unit_of_work
async def _fan_out(event_id: int, subscribers: list[str], at: datetime) -> None:
    """A delivery row per subscriber, in one statement; rows already there stay as they are
    (a second pass, or another process fanning out the same event)."""
    if not subscribers:
        return
    table = OutboxDelivery._meta.db_table
    columns = "`event_id`, `subscriber`, `available_at`, `attempts`, `delivered_at`, `last_error`"
    rows = ", ".join("(?, ?, ?, 0, NULL, '')" for _ in subscribers)
    values: list[Any] = []
    for name in subscribers:
        values += [event_id, name, at]
    if Tortoise.get_connection("default").capabilities.dialect == "mysql":
        keep = "ON DUPLICATE KEY UPDATE `event_id` = `event_id`"
    else:
        keep = "ON CONFLICT (`event_id`, `subscriber`) DO NOTHING"
    await execute(f"INSERT INTO `{table}` ({columns}) VALUES {rows} {keep}", values)


@unit_of_work
async def _update_events(which: Q, **changes: Any) -> int:
    """One statement over outbox rows, re-run on a lock conflict: a bulk close and a claim
    reach the same rows through different indexes (available_at, delivered_at, the key), so
    InnoDB may deadlock them, and the relay must not stop at that."""
    return await OutboxEvent.filter(which).update(**changes)


@unit_of_work
async def _update_deliveries(which: Q, **changes: Any) -> int:
    return await OutboxDelivery.filter(which).update(**changes)


async def run_relay(stop: asyncio.Event, interval: float = 1.0) -> None:
    """Re-deliver what the fast path missed, until stopped."""
    while not stop.is_set():
        try:
            await deliver_pending()
        except Exception:  # a database hiccup must not end the loop
            log.exception("outbox relay pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


@dataclass(frozen=True)
class Backlog:
    subscriber: str
    pending: int  # events this subscriber has not handled yet
    oldest: datetime | None  # when the oldest of them was written


async def backlog() -> list[Backlog]:
    """What each subscriber still owes, for the metrics scrape: its undelivered deliveries,
    plus the undelivered events not fanned out yet (counted for every subscriber of their
    topic; a subscriber's `when` filter is not applied, so that count is an upper bound).
    Two grouped queries over the delivered_at-NULL rows: cheap while the outbox keeps up."""
    found: dict[str, tuple[int, datetime | None]] = {}

    def add(name: str, count: int, oldest: Any) -> None:
        if isinstance(oldest, str):  # SQLite hands an aggregate's datetime back as text
            oldest = datetime.fromisoformat(oldest)
        if isinstance(oldest, datetime) and oldest.tzinfo is None:  # MySQL's: stored in UTC
            oldest = oldest.replace(tzinfo=UTC)
        known, earliest = found.get(name, (0, None))
        found[name] = (
            known + int(count),
            min((t for t in (earliest, oldest) if t is not None), default=None),
        )

    for row in await fetch_rows(
        "SELECT d.`subscriber` AS name, COUNT(*) AS n, MIN(e.`created_at`) AS oldest"
        " FROM `outbox_delivery` d JOIN `outbox_event` e ON e.`id` = d.`event_id`"
        " WHERE d.`delivered_at` IS NULL GROUP BY d.`subscriber`",
        [],
    ):
        add(row["name"], row["n"], row["oldest"])
    for row in await fetch_rows(
        "SELECT e.`topic` AS topic, COUNT(*) AS n, MIN(e.`created_at`) AS oldest FROM `outbox_event` e"
        " WHERE e.`delivered_at` IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM `outbox_delivery` d WHERE d.`event_id` = e.`id`)"
        " GROUP BY e.`topic`",
        [],
    ):
        for subscriber in _subscriptions.of(row["topic"]):
            add(subscriber.name, row["n"], row["oldest"])
    return [Backlog(name, count, oldest) for name, (count, oldest) in sorted(found.items())]
