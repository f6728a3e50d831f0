"""Staff sign-in for the admin web: passwords checked with argon2, guessing throttled (see
sign_in) without letting a stranger lock the owner out, sessions held in Redis (so every
process knows them and a sign-out is everywhere at once), each with its own CSRF token and the
account's session epoch (raising it ends them all)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import secrets
from dataclasses import dataclass

import redis.asyncio as redis
from argon2 import PasswordHasher

from commerce import clock
from commerce.merchants import services as merchants
from commerce.staff.errors import StaffError
from commerce.staff.models import StaffAccount
from commerce.staff.services import is_valid_username, verify_password
from commerce.staff.states import StaffRole

IDLE_SECONDS = 2 * 3600  # a session unused this long ends
MAX_AGE_SECONDS = 12 * 3600  # and none lasts longer than a working day
FAILURE_WINDOW_SECONDS = 15 * 60
# One address and one account: this many attempts go unhindered; from then on each failure
# doubles the wait before the next (1 min, 2, 4, 8, then 15 min at most).
FREE_ATTEMPTS_PER_PAIR = 5
PAIR_DELAY_SECONDS = 60
PAIR_MAX_DELAY_SECONDS = 15 * 60
PAIR_MEMORY_SECONDS = 3600  # a pair's count is forgotten an hour after its last attempt
# One account from everywhere: past this many failures in the window, addresses the account
# never signed in from get one attempt a minute each (known ones are not slowed).
MAX_FAILURES_PER_ACCOUNT = 20
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600
# One address at every account (spraying): past this it is refused for the window.
MAX_FAILURES_PER_ADDRESS = 20
# Checked against when the account does not exist, so both answers take as long.
_DUMMY_HASH = PasswordHasher().hash(secrets.token_hex(16))

# The pair's gate, atomic so parallel guesses cannot all pass before one is counted: refused
# (with the seconds to wait) until the pair's next allowed moment; otherwise the attempt is
# counted as a failure until it proves right, and the wait it would earn is set at once.
# KEYS[1]: the pair; ARGV: now, the least count to charge, free attempts, base delay, max
# delay, memory.
_PAIR_GATE = """
local now = tonumber(ARGV[1])
local raw = redis.call('HGET', KEYS[1], 'next_at')
local next_at = raw and tonumber(raw) or 0
if now < next_at then return math.ceil(next_at - now) end
local n = math.max(redis.call('HINCRBY', KEYS[1], 'fails', 1), tonumber(ARGV[2]))
local free = tonumber(ARGV[3])
local delay = 0
if n >= free then delay = math.min(tonumber(ARGV[4]) * 2 ^ (n - free), tonumber(ARGV[5])) end
redis.call('HSET', KEYS[1], 'next_at', tostring(now + delay))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
return 0
"""


@dataclass(frozen=True)
class Staff:
    """Who is acting in the admin web, as the edge passes it to services."""

    id: int
    username: str
    role: StaffRole
    merchant_id: int | None

    @property
    def actor(self) -> str:
        return f"staff:{self.id}"


@dataclass(frozen=True)
class StaffSession:
    staff: Staff
    csrf_token: str


async def sign_in(*, username: str, password: str, address: str, redis_client: redis.Redis) -> str:
    """A new session token for a correct username and password; BAD_LOGIN otherwise, and
    LOCKED_OUT while guessing is throttled.

    The throttle never lets a stranger lock the owner out: the wait grows per (account,
    address) pair, so guesses from elsewhere leave the owner's address untouched; the wider
    limit per account only slows addresses the account never signed in from (one attempt a
    minute each); a limit per address stops one client trying many accounts."""
    username = (username or "").strip()[:64]
    address = _network_of(address)
    account_key = f"admin:failures:user:{username.lower()}"
    address_key = f"admin:failures:addr:{address}"
    known_key = f"admin:known:{username.lower()}"
    async with redis_client.pipeline(transaction=False) as pipe:
        for key in (account_key, address_key):
            pipe.set(key, 0, ex=FAILURE_WINDOW_SECONDS, nx=True).incr(key)
        pipe.sismember(known_key, address)
        _, account_failures, _, address_failures, known = await pipe.execute()
    if address_failures > MAX_FAILURES_PER_ADDRESS:
        raise StaffError.LOCKED_OUT.error("登录失败次数过多，请 15 分钟后再试")
    under_attack = account_failures > MAX_FAILURES_PER_ACCOUNT and not known
    wait = await redis_client.eval(
        _PAIR_GATE,
        1,
        f"admin:failures:pair:{username.lower()}:{address}",
        clock.now().timestamp(),
        FREE_ATTEMPTS_PER_PAIR if under_attack else 0,
        FREE_ATTEMPTS_PER_PAIR,
        PAIR_DELAY_SECONDS,
        PAIR_MAX_DELAY_SECONDS,
        PAIR_MEMORY_SECONDS,
    )
    if int(wait) > 0:
        raise StaffError.LOCKED_OUT.error(f"登录尝试过于频繁，请 {_minutes_or_seconds(int(wait))}后再试")
    # Only names an account could have are looked up: MySQL's collations would find "boss" by
    # "bóss" too, and each spelling would get a failure counter of its own.
    account = await StaffAccount.get_or_none(username=username) if is_valid_username(username) else None
    # argon2 takes tens of milliseconds of CPU: off the event loop.
    correct = await asyncio.to_thread(
        verify_password, account.password_hash if account else _DUMMY_HASH, password
    )
    if account is None or not correct or not account.is_active:
        raise StaffError.BAD_LOGIN.error()
    async with redis_client.pipeline(transaction=False) as pipe:  # this one was no failure
        pipe.delete(f"admin:failures:pair:{username.lower()}:{address}")
        pipe.decr(account_key).decr(address_key)
        pipe.sadd(known_key, address).expire(known_key, KNOWN_ADDRESS_SECONDS)
        await pipe.execute()
    # The epoch is read with the merchant's state: a suspension committed after this read
    # raised the epoch, so the session made below is already ended.
    if account.merchant_id is not None and not await merchants.is_trading(merchant_id=account.merchant_id):
        raise StaffError.MERCHANT_SUSPENDED.error()
    token = secrets.token_urlsafe(32)
    record = {
        "staff_id": account.id,
        "csrf": secrets.token_urlsafe(32),
        "since": clock.now().timestamp(),
        "epoch": account.session_epoch,
    }
    await redis_client.set(_session_key(token), json.dumps(record), ex=IDLE_SECONDS)
    return token


def _minutes_or_seconds(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 120 else f"{(seconds + 59) // 60} 分钟"


async def session_of(*, token: str, redis_client: redis.Redis) -> StaffSession | None:
    """The session behind a cookie token, if current and its account still active; using it
    keeps it alive (up to MAX_AGE_SECONDS)."""
    if not token or len(token) > 100:
        return None
    raw = await redis_client.get(_session_key(token))
    if raw is None:
        return None
    record = json.loads(raw)
    age = clock.now().timestamp() - float(record["since"])
    account = await StaffAccount.get_or_none(id=int(record["staff_id"]), is_active=True)
    # A deactivation, a password reset or the merchant's suspension raised the epoch since.
    ended = account is None or account.session_epoch != int(record.get("epoch", 0))
    if ended or age > MAX_AGE_SECONDS:
        await redis_client.delete(_session_key(token))
        return None
    await redis_client.expire(_session_key(token), IDLE_SECONDS)
    staff = Staff(account.id, account.username, StaffRole(account.role), account.merchant_id)
    return StaffSession(staff=staff, csrf_token=str(record["csrf"]))


async def sign_out(*, token: str, redis_client: redis.Redis) -> None:
    if token:
        await redis_client.delete(_session_key(token))


def _session_key(token: str) -> str:
    # Only a hash of the token is stored: a look at Redis gives no usable session.
    return "admin:session:" + hashlib.sha256(token.encode()).hexdigest()


def _network_of(address: str) -> str:
    if ":" in address:  # IPv6: one client holds a whole /64
        with contextlib.suppress(ValueError):
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return address
