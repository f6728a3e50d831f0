"""Bearer-token authentication for the mini-program API."""

from __future__ import annotations

from aiohttp import web

from commerce.errors import CommonError
from commerce.log_context import note_actor
from commerce.users.services import Shopper, authenticate_token
from miniprogram_api.keys import CORE


async def authenticate(request: web.Request) -> Shopper:
    """The shopper behind `Authorization: Bearer <token>`, or a 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise CommonError.UNAUTHENTICATED.error()
    core = request.app[CORE]
    shopper = await authenticate_token(token=token.strip(), settings=core.settings, sessions=core.sessions)
    note_actor("shopper", shopper.user_id)  # the access log's actor: the id, never the name
    return shopper
