"""The touches' Redis buffer: what `touches.record` pushed, waiting for `touches.flush`.

- Each touch is one compact JSON array RPUSHed onto one list (BUFFER).
- A flusher takes a batch with one Lua script: LRANGE + LTRIM of the list, the items copied to a
  batch list of its own (named by a random token) and the token put in a sorted set (FLUSHING)
  scored by when it was taken. Redis runs a script alone, so two flushers (in any processes)
  never take the same items.
- After the batch's transaction committed, the flusher deletes its batch list and token. A
  flusher that fails leaves them (its token is marked stale at once); one that dies between
  the drain and the commit leaves them for LEASE_SECONDS. Either way `recover` (every flush
  job and at shutdown) takes the stale batch over (ZREM decides who), checks whether its
  transaction committed after all (its first touch's row exists: a batch commits whole or not
  at all) and writes it if not. So nothing is lost and nothing is written twice (short of two
  identical touches, same KOL, channel, visitor, shopper and microsecond, in different
  batches, which would be one touch anyway).
- A signed-in shopper's touch (not their own code) is also noted in a sorted set per shopper
  (their earliest and latest buffered touch, kept an hour), so a checkout right after the touch
  attributes by it before the flush (`pending_of`, read by attribution.resolve).

The keys share one hash tag, so the scripts run on Redis Cluster too. With the embedded Redis
(no REDIS_URL) the buffer lives in the process: it is flushed at shutdown, but a process killed
outright loses what it buffered since the last flush (about two seconds of touches); a real
Redis keeps them for the next flusher.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis.asyncio as redis
from redis.exceptions import RedisError

from commerce import clock
from commerce.db import fetch_rows
from commerce.referrals.states import TouchChannel

log = logging.getLogger(__name__)

BUFFER = "{referral:touches}:buffer"
FLUSHING = "{referral:touches}:flushing"  # batch token -> when it was taken (epoch seconds)
BATCH = "{referral:touches}:batch:"  # + token: the items one flusher took
SHOPPER = "referral:shopper:"  # + user id: their earliest and latest buffered touch
LEASE_SECONDS = 300  # a batch not acknowledged within this is a dead flusher's
SHOPPER_TTL_SECONDS = 3600

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_DRAIN = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items == 0 then return items end
redis.call('LTRIM', KEYS[1], #items, -1)
for i = 1, #items, 500 do
    redis.call('RPUSH', KEYS[2], unpack(items, i, math.min(i + 499, #items)))
end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
return items
"""


@dataclass(frozen=True)
class Buffered:
    kol_id: int
    channel: TouchChannel
    user_id: int | None
    visitor: str
    ip: str
    device: str
    path: str
    at: datetime
    own: bool  # the KOL's own touch: kept, binds nobody


@dataclass(frozen=True)
class Mark:
    """A buffered touch of a shopper, as attribution reads it."""

    kol_id: int
    channel: TouchChannel
    at: datetime


def micros(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)


def moment(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def encode(t: Buffered) -> str:
    return json.dumps(
        [t.kol_id, t.channel.value, t.user_id, t.visitor, t.ip, t.device, t.path, micros(t.at), int(t.own)],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode(raw: bytes | str) -> Buffered:
    kol_id, channel, user_id, visitor, ip, device, path, at, own = json.loads(raw)
    return Buffered(kol_id, TouchChannel(channel), user_id, visitor, ip, device, path, moment(at), bool(own))


async def push(client: redis.Redis, item: Buffered, *, note_shopper: bool) -> None:
    """Buffer one touch (and note it for its shopper) in one round trip."""
    pipe = client.pipeline(transaction=False)
    pipe.rpush(BUFFER, encode(item))
    if note_shopper and item.user_id is not None:
        # A sorted set by time, trimmed to its earliest and latest: a touch pushed late (or
        # out of order) moves neither the wrong way.
        key = f"{SHOPPER}{item.user_id}"
        mark = json.dumps([item.kol_id, item.channel.value, micros(item.at)], separators=(",", ":"))
        pipe.zadd(key, {mark: micros(item.at)})
        pipe.zremrangebyrank(key, 1, -2)
        pipe.expire(key, SHOPPER_TTL_SECONDS)
    await pipe.execute()


Write = Callable[[list[Buffered]], Awaitable[None]]


async def flush(client: redis.Redis, *, write: Write, batch: int) -> int:
    """Take up to `batch` touches and write them; acknowledged only after the write committed."""
    token = secrets.token_hex(8)
    raw = await client.register_script(_DRAIN)(
        keys=[BUFFER, BATCH + token, FLUSHING], args=[batch, clock.now().timestamp(), token]
    )
    if not raw:
        return 0
    try:
        await write([decode(r) for r in raw])
    except BaseException:
        # Committed or not, we cannot tell from here: the next recover decides, at once.
        await client.zadd(FLUSHING, {token: 0})
        raise
    await _acknowledge(client, token)
    return len(raw)


async def recover(client: redis.Redis, *, write: Write) -> int:
    """Finish the batches dead or failed flushers left: written unless they committed."""
    stale = await client.zrangebyscore(FLUSHING, "-inf", clock.now().timestamp() - LEASE_SECONDS)
    written = 0
    for token in stale:
        token = token.decode() if isinstance(token, bytes) else token
        if not await client.zrem(FLUSHING, token):
            continue  # another flusher took it over
        raw = await client.lrange(BATCH + token, 0, -1)
        items = [decode(r) for r in raw]
        if items and not await _committed(items[0]):
            try:
                await write(items)
            except BaseException:
                await client.zadd(FLUSHING, {token: 0})
                raise
            written += len(items)
            log.warning("referral touches: wrote %d touches a failed flush left", len(items))
        await client.delete(BATCH + token)
    return written


async def buffered(client: redis.Redis) -> int:
    """How many touches wait for a flush (not counting batches being written)."""
    return await client.llen(BUFFER)


async def _acknowledge(client: redis.Redis, token: str) -> None:
    pipe = client.pipeline(transaction=True)
    pipe.delete(BATCH + token)
    pipe.zrem(FLUSHING, token)
    await pipe.execute()


async def _committed(t: Buffered) -> bool:
    rows = await fetch_rows(
        "SELECT `user_id`, `visitor` FROM `referral_touch` WHERE `kol_id` = ? AND `at` = ? AND `channel` = ?",
        [t.kol_id, t.at, t.channel.value],
    )
    return any(r["user_id"] == t.user_id and r["visitor"] == t.visitor for r in rows)


# --- what a checkout reads before the flush ----------------------------------------------

_connected: redis.Redis | None = None


def connect(client: redis.Redis) -> None:
    """Read shoppers' buffered touches through `client` (the core's, when it starts)."""
    global _connected
    _connected = client


def disconnect(client: redis.Redis | None = None) -> None:
    global _connected
    if client is None or client is _connected:
        _connected = None


async def pending_of(user_id: int) -> tuple[Mark, Mark] | None:
    """The shopper's earliest and latest touch still noted from the buffer (None: none, or no
    Redis connected; a Redis error reads as none: the database still knows what was flushed)."""
    if _connected is None:
        return None
    try:
        marks = await _connected.zrange(f"{SHOPPER}{user_id}", 0, -1)
    except RedisError as exc:
        log.warning("referral touches: no buffered touch of shopper %s (%r)", user_id, exc)
        return None
    if not marks:
        return None
    return _mark(marks[0]), _mark(marks[-1])


def _mark(raw: bytes | str) -> Mark:
    kol_id, channel, at = json.loads(raw)
    return Mark(kol_id, TouchChannel(channel), moment(at))
