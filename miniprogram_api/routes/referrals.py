"""Touches of a KOL's code (推广): a share link opened, a mini-program code scanned, a link a
shopper passed on. With or without sign-in: a Bearer token makes it the shopper's touch (their
next order may be attributed to the KOL); without one it is an anonymous visitor's.

A share (channel "share"): the link one shopper passed to another carries the KOL's code and
the sharer's user id (`sharer`); the touch is the opener's and counts for the KOL; the sharer
is kept in the touch's path as "…#sharer=ID" (the visitor stays the opener's own id).

Answered 202 at once: the touch is buffered in Redis and written by the next flush (every few
seconds); a checkout right after it already sees it.

Errors (besides invalid_request / malformed_json, 400):
- an unknown code, or a KOL not approved or suspended: 404 referral_code_invalid (not recorded);
- a forged or expired token: 401 unauthenticated / session_expired.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from commerce import proxies
from commerce.referrals import touches
from commerce.referrals.states import TouchChannel
from miniprogram_api.auth import authenticate
from miniprogram_api.keys import CORE
from miniprogram_api.routing import Router
from miniprogram_api.schemas.referrals import TouchIn, TouchOut

router = Router()
TAG = "推广"


@router.post(
    "/referrals/touch",
    summary="记录一次推广访问（打开推广链接、扫小程序码、好友转发；登录与否均可）",
    tag=TAG,
    body=TouchIn,
    response=TouchOut,
    status=202,
)
async def record_touch(request: web.Request, *, body: TouchIn) -> dict[str, Any]:
    core = request.app[CORE]
    shopper = await authenticate(request) if request.headers.get("Authorization") else None
    await touches.record(
        core.redis,
        touch=touches.Touch(
            code=body.code,
            channel=TouchChannel(body.channel),
            user_id=shopper.user_id if shopper else None,
            visitor=body.visitor,
            ip=client_address(request),
            device=body.device,
            path=_with_sharer(body.path, body.sharer if body.channel == "share" else None),
        ),
    )
    return {"accepted": True}


def _with_sharer(path: str, sharer: int | None) -> str:
    if sharer is None:
        return path
    mark = f"#sharer={sharer}"
    return path[: 128 - len(mark)] + mark


def client_address(request: web.Request) -> str:
    """The client's address behind our proxies: the one the fraud signals count."""
    return proxies.client_address(
        peer=request.remote or "",
        forwarded_for=request.headers.get("X-Forwarded-For", ""),
        trusted_proxies=request.app[CORE].settings.trusted_proxies,
    )
