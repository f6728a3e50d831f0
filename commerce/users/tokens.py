"""Our own session tokens: JWT, HS256 with the signing key; expiring; revocable.

Claims: sub (the user id, a string as JWT wants), ver (the user's session_version: bumping
it revokes every token issued before), aud, iat, exp. Times are checked against
commerce.clock rather than PyJWT's wall clock, so tests can move time both ways.
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
CLOCK_SKEW_SECONDS = 60  # a token "issued" slightly in the future (another server's clock)


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
    """The claims of a genuine, current token; otherwise session_expired."""
    try:
        claims = jwt.decode(
            token,
            settings.signing_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={
                "verify_exp": False,  # checked below against commerce.clock
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["sub", "ver", "aud", "iat", "exp"],
            },
        )
        user_id, version = int(claims["sub"]), int(claims["ver"])
        issued, expires = int(claims["iat"]), int(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise UserError.SESSION_EXPIRED.error() from exc
    now = clock.now().timestamp()
    if expires <= now or issued > now + CLOCK_SKEW_SECONDS:
        raise UserError.SESSION_EXPIRED.error()
    return SessionClaims(user_id=user_id, session_version=version)
