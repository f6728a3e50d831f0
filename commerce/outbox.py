"""The transactional outbox: events written with the change, delivered after commit.

A service appends events inside its transaction (`emit`). After the commit it may ask for
prompt delivery (`deliver`), and a relay loop re-delivers whatever is left (a crash between
commit and delivery, a failing handler) with backoff. Handlers must be idempotent: an event
can be delivered more than once, never zero times.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F, Q
from tortoise.models import Model

from commerce import clock
from commerce.db import insert
from commerce.transactions import detached, unit_of_work

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]

LEASE = timedelta(seconds=30)  # a claimed event is retried by others after this
MAX_BACKOFF = timedelta(minutes=10)


class OutboxEvent(Model):
    id = fields.BigIntField(primary_key=True)
    topic = fields.CharField(max_length=64)
    payload: dict[str, Any] = fields.JSONField()
    created_at = fields.DatetimeField()
    # Not before this time: the lease of a claim, or the backoff after a failure.
    available_at = fields.DatetimeField(db_index=True)
    attempts = fields.IntField(default=0)
    delivered_at = fields.DatetimeField(null=True, db_index=True)
    last_error = fields.CharField(max_length=500, default="")

    class Meta:
        table = "outbox_event"


_handlers: dict[str, list[Handler]] = {}


def subscribe(topic: str, handler: Handler) -> None:
    """Register a handler for a topic (done once at start by whoever wires the process)."""
    if handler not in _handlers.setdefault(topic, []):
        _handlers[topic].append(handler)


def unsubscribe_all() -> None:
    _handlers.clear()


async def emit(topic: str, payload: dict[str, Any], *, connection: BaseDBAsyncClient) -> OutboxEvent:
    """Append an event inside the caller's transaction (every order writes one: a plain
    INSERT, not the ORM's create)."""
    at = clock.now()
    row = {
        "topic": topic,
        "payload": payload,
        "created_at": at,
        "available_at": at,
        "attempts": 0,
        "delivered_at": None,
        "last_error": "",
    }
    event_id = await insert(OutboxEvent._meta.db_table, row, connection=connection)
    return OutboxEvent(id=event_id, **row)


async def deliver(events: Iterable[OutboxEvent]) -> None:
    """Deliver just-committed events now (the fast path); the relay covers failures.

    Events nobody listens to are left for the relay, which closes them in bulk.
    """
    for event in events:
        if _handlers.get(event.topic):
            # After the caller's commit: each handler's services are units of their own.
            await detached(lambda event_id=event.id: _deliver_one(event_id))


async def deliver_pending(limit: int = 100) -> int:
    """Deliver due events; return how many were delivered. Safe in several processes."""
    due = (
        await OutboxEvent.filter(delivered_at=None, available_at__lte=clock.now())
        .order_by("id")
        .limit(limit)
        .values_list("id", "topic")
    )
    unheard = [event_id for event_id, topic in due if not _handlers.get(topic)]
    delivered = 0
    if unheard:  # no handler (yet) for these topics: nothing to do but close them
        delivered += await _update(Q(id__in=unheard, delivered_at=None), delivered_at=clock.now())
    for event_id, topic in due:
        if _handlers.get(topic):
            delivered += await _deliver_one(event_id)
    return delivered


async def _deliver_one(event_id: int) -> int:
    at = clock.now()
    # Claim with a conditional update: only one process wins the lease.
    claimed = await _update(
        Q(id=event_id, delivered_at=None, available_at__lte=at),
        available_at=at + LEASE,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return 0
    event = await OutboxEvent.get(id=event_id)
    try:
        for handler in _handlers.get(event.topic, []):
            await handler(event.payload)
    except Exception as exc:  # any handler failure is retried later with backoff
        backoff = min(timedelta(seconds=2**event.attempts), MAX_BACKOFF)
        log.warning("outbox event %s (%s) failed: %r", event.id, event.topic, exc)
        await _update(Q(id=event.id), available_at=clock.now() + backoff, last_error=repr(exc)[:500])
        return 0
    await _update(Q(id=event.id), delivered_at=clock.now())
    return 1


@unit_of_work
async def _update(which: Q, **changes: Any) -> int:
    """One statement over outbox rows, re-run on a lock conflict: a bulk close and a claim
    reach the same rows through different indexes (available_at, delivered_at, the key), so
    InnoDB may deadlock them, and the relay must not stop at that."""
    return await OutboxEvent.filter(which).update(**changes)


async def run_relay(stop: asyncio.Event, interval: float = 1.0) -> None:
    """Re-deliver what the fast path missed, until stopped."""
    while not stop.is_set():
        try:
            await deliver_pending()
        except Exception:  # a database hiccup must not end the loop
            log.exception("outbox relay pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
