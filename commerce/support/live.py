"""Live news of conversations, across processes, for whoever shows them (the admin's streams).

After a change commits, a small event goes out on Redis pub/sub: what happened, to which
conversation, and the new message's id. Listeners read what changed from the database, so an
event carries no content and a lost one costs a refresh, never data: a stream that reconnects
catches up from the database.

The process's publisher is its core's Redis client, connected when the core starts (the bot,
the scheduler and the admin all publish through it without passing it around).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from types import TracebackType

import redis.asyncio as redis

log = logging.getLogger(__name__)

MESSAGE = "message"  # a message joined the conversation (either direction)
# The other kinds are the conversation's EventType values: opened, claimed, transferred,
# closed, expired.

_publisher: redis.Redis | None = None


@dataclass(frozen=True)
class LiveEvent:
    kind: str
    conversation_id: int
    message_id: int | None = None


def connect(client: redis.Redis) -> None:
    """Publish this process's events through `client` (the core's, when it starts)."""
    global _publisher
    _publisher = client


def disconnect(client: redis.Redis | None = None) -> None:
    """Stop publishing (through `client` only, when given: another core may have connected)."""
    global _publisher
    if client is None or client is _publisher:
        _publisher = None


def inbox_channel(client: redis.Redis) -> str:
    """Every conversation's events."""
    return f"{_namespace(client)}:inbox"


def conversation_channel(client: redis.Redis, conversation_id: int) -> str:
    """One conversation's events."""
    return f"{_namespace(client)}:conversation:{conversation_id}"


async def publish(kind: str, conversation_id: int, *, message_id: int | None = None) -> None:
    """Tell listeners; call after the change committed. Never fails the caller: the change is
    done, and listeners catch up from the database."""
    client = _publisher
    if client is None:
        return
    event = {"kind": kind, "conversation_id": conversation_id, "message_id": message_id}
    data = json.dumps(event, separators=(",", ":"))
    try:
        async with client.pipeline(transaction=False) as pipe:
            pipe.publish(inbox_channel(client), data)
            pipe.publish(conversation_channel(client, conversation_id), data)
            await pipe.execute()
    except Exception as exc:  # Redis down or closing: the change stands, the news is lost
        log.warning("support event %s of conversation %s not published: %r", kind, conversation_id, exc)


class Subscription:
    """Events as they are published: of one conversation, or of all (conversation_id None).

    `async with Subscription(redis, conversation_id) as events:` then `await events.next(1.0)`.
    """

    def __init__(self, client: redis.Redis, conversation_id: int | None = None) -> None:
        self._channel = (
            inbox_channel(client)
            if conversation_id is None
            else conversation_channel(client, conversation_id)
        )
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)

    async def __aenter__(self) -> Subscription:
        await self._pubsub.subscribe(self._channel)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            await self._pubsub.unsubscribe()
        except Exception as exc:  # the connection is gone already: nothing left to undo
            log.debug("unsubscribe failed: %r", exc)
        finally:
            await self._pubsub.aclose()

    async def next(self, wait_seconds: float) -> LiveEvent | None:
        """The next event, or None when `wait_seconds` pass without one."""
        deadline = time.monotonic() + wait_seconds
        while (left := deadline - time.monotonic()) > 0:
            # get_message returns None early for what it skips (subscribe confirmations).
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if message is None or message.get("type") != "message":
                continue
            event = _parse(message.get("data"))
            if event is not None:
                return event
        return None


def _parse(data: object) -> LiveEvent | None:
    try:
        raw = json.loads(data)  # type: ignore[arg-type]
        message_id = raw.get("message_id")
        return LiveEvent(
            kind=str(raw["kind"]),
            conversation_id=int(raw["conversation_id"]),
            message_id=int(message_id) if message_id is not None else None,
        )
    except (TypeError, ValueError, KeyError, AttributeError):
        log.warning("ignored a malformed support event: %r", data)
        return None


def _namespace(client: redis.Redis) -> str:
    # Pub/sub channels are shared by every database of a Redis server: the database number
    # keeps two shops (or two test runs) on one server apart.
    db = client.connection_pool.connection_kwargs.get("db", 0)
    return f"support:{db}"
