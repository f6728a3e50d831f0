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
    issued_at: int = 0  # unix seconds
    expires_at: int = 0


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
    return check_times(decode(token, settings=settings))


def decode(token: str, *, settings: Settings) -> SessionClaims:
    """The claims of a genuine token (signature and shape checked), current or not."""
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
    return SessionClaims(user_id=user_id, session_version=version, issued_at=issued, expires_at=expires)


def check_times(claims: SessionClaims) -> SessionClaims:
    """The claims, if the token is current by commerce.clock; otherwise session_expired."""
    now = clock.now().timestamp()
    if claims.expires_at <= now or claims.issued_at > now + CLOCK_SKEW_SECONDS:
        raise UserError.SESSION_EXPIRED.error()
    return claims
