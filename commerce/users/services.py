"""STUB: shopper login and sessions (being written)."""

from __future__ import annotations

from dataclasses import dataclass

from commerce.errors import CommonError


@dataclass(frozen=True)
class Shopper:
    user_id: int
    openid: str


async def authenticate_token(*, token: str, settings) -> Shopper:
    raise CommonError.UNAUTHENTICATED.error()
