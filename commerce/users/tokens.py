"""Our own session tokens: signed (HS256 with the secret key), expiring, revocable.

Revocation: the token carries the user's session_version; bumping it ends every session.
Expiry is checked against commerce.clock, so tests can move time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import jwt

from commerce import clock
from commerce.config import Settings
from commerce.users.errors import UserError

ALGORITHM = "HS256"
AUDIENCE = "miniprogram"


@dataclass(frozen=True)
class SessionClaims:
    user_id: int
    session_version: int


def issue(*, user_id: int, session_version: int, settings: Settings) -> str:
    now = clock.now()
    claims = {
        "sub": str(user_id),
        "ver": session_version,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=settings.session_ttl_seconds)).timestamp()),
    }
    return jwt.encode(claims, settings.signing_key, algorithm=ALGORITHM)


def verify(token: str, *, settings: Settings) -> SessionClaims:
    """The claims of a genuine, unexpired token; otherwise session_expired."""
    try:
        claims = jwt.decode(
            token,
            settings.signing_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"verify_exp": False, "require": ["sub", "ver", "exp", "aud"]},
        )
        user_id, version, expires = int(claims["sub"]), int(claims["ver"]), int(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise UserError.SESSION_EXPIRED.error() from exc
    if expires <= clock.now().timestamp():
        raise UserError.SESSION_EXPIRED.error()
    return SessionClaims(user_id=user_id, session_version=version)
