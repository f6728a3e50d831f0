"""Staff sign-in for the admin web: passwords checked with argon2, failures throttled per
account and per address, sessions held in Redis (so every process knows them and a sign-out is
everywhere at once), each with its own CSRF token."""

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
from commerce.staff.errors import StaffError
from commerce.staff.models import StaffAccount
from commerce.staff.services import is_valid_username, verify_password
from commerce.staff.states import StaffRole

IDLE_SECONDS = 2 * 3600  # a session unused this long ends
MAX_AGE_SECONDS = 12 * 3600  # and none lasts longer than a working day
FAILURE_WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
# Checked against when the account does not exist, so both answers take as long.
_DUMMY_HASH = PasswordHasher().hash(secrets.token_hex(16))


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
    LOCKED_OUT after too many failures for this account or from this address."""
    username = (username or "").strip()[:64]
    account_key, address_key = _failure_keys(username, address)
    # Every attempt counts as a failure until the password proves right: one atomic INCR per
    # counter, so parallel guesses cannot all slip under the limit before any is counted.
    # The window is fixed from the first failure (retrying does not prolong a lock-out).
    async with redis_client.pipeline(transaction=False) as pipe:
        for key in (account_key, address_key):
            pipe.set(key, 0, ex=FAILURE_WINDOW_SECONDS, nx=True).incr(key)
        counts = await pipe.execute()
    if counts[1] > MAX_FAILURES_PER_ACCOUNT or counts[3] > MAX_FAILURES_PER_ADDRESS:
        raise StaffError.LOCKED_OUT.error()
    # Only names an account could have are looked up: MySQL's collations would find "boss" by
    # "bóss" too, and each spelling would get a failure counter of its own.
    account = await StaffAccount.get_or_none(username=username) if is_valid_username(username) else None
    # argon2 takes tens of milliseconds of CPU: off the event loop.
    correct = await asyncio.to_thread(
        verify_password, account.password_hash if account else _DUMMY_HASH, password
    )
    if account is None or not correct or not account.is_active:
        raise StaffError.BAD_LOGIN.error()
    async with redis_client.pipeline(transaction=False) as pipe:
        await pipe.delete(account_key).decr(address_key).execute()  # this one was no failure
    token = secrets.token_urlsafe(32)
    record = {"staff_id": account.id, "csrf": secrets.token_urlsafe(32), "since": clock.now().timestamp()}
    await redis_client.set(_session_key(token), json.dumps(record), ex=IDLE_SECONDS)
    return token


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
    if account is None or age > MAX_AGE_SECONDS:
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


def _failure_keys(username: str, address: str) -> tuple[str, str]:
    if ":" in address:  # IPv6: one client holds a whole /64
        with contextlib.suppress(ValueError):
            address = str(ipaddress.ip_network(f"{address}/64", strict=False))
    return f"admin:failures:user:{username.lower()}", f"admin:failures:addr:{address}"
