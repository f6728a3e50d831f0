"""A short per-process memory of sessions: tokens already decoded, users' session versions.

Checking a token costs a signature check and a primary-key query (revocation) per request; the
hottest paths (checkout, ordering) make two requests a second per shopper. Core owns one of
these per process. A token's claims never change, so a decoded token is remembered (its times
are still checked on every use); a revocation made here is seen here at once (`forget`), and by
other processes within `ttl` seconds — the price of skipping the query.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from commerce.users.tokens import SessionClaims

DEFAULT_TTL_SECONDS = 1.0
MAX_ENTRIES = 50_000


@dataclass
class SessionVersions:
    ttl: float = DEFAULT_TTL_SECONDS
    _entries: dict[int, tuple[str, int, float]] = field(default_factory=dict)
    _decoded: dict[str, SessionClaims] = field(default_factory=dict)

    def decoded(self, token: str) -> SessionClaims | None:
        return self._decoded.get(token)

    def remember_decoded(self, token: str, claims: SessionClaims) -> None:
        if len(self._decoded) >= MAX_ENTRIES:
            self._decoded.clear()
        self._decoded[token] = claims

    def get(self, user_id: int) -> tuple[str, int] | None:
        """(openid, session_version) if looked up less than ttl ago."""
        entry = self._entries.get(user_id)
        if entry is None or time.monotonic() - entry[2] > self.ttl:
            return None
        return entry[0], entry[1]

    def put(self, user_id: int, openid: str, version: int) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # a burst of distinct users: start over rather than grow
        self._entries[user_id] = (openid, version, time.monotonic())

    def forget(self, user_id: int) -> None:
        self._entries.pop(user_id, None)
