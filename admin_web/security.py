"""Who is asking (the session cookie), whether the form is theirs (CSRF), and the headers
every admin page carries."""

from __future__ import annotations

import hmac
import time

from aiohttp import web

from admin_web.keys import COOKIE, CORE, SESSION
from commerce import proxies
from commerce.log_context import note_actor
from commerce.staff.auth import StaffSession, session_of

# Pages anyone may open: the sign-in form and its post.
PUBLIC = frozenset({"/admin/login"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@web.middleware
async def session_middleware(request: web.Request, handler):
    """Signed-in staff only (except the sign-in page); a POST must carry the session's
    CSRF token."""
    if request.path in PUBLIC:
        return await handler(request)
    session = await session_of(token=request.cookies.get(COOKIE, ""), redis_client=request.app[CORE].redis)
    if session is None:
        if request.method in SAFE_METHODS:
            raise web.HTTPFound("/admin/login")
        raise web.HTTPForbidden(text="请先登录")
    if request.method not in SAFE_METHODS:
        form = await read_form(request)
        if not hmac.compare_digest(str(form.get("csrf_token", "")), session.csrf_token):
            raise web.HTTPForbidden(text="页面已过期，请刷新后重试")
    request[SESSION] = session
    note_actor("staff", session.staff.id)  # the access log's actor: the id, never the name
    return await handler(request)


@web.middleware
async def headers_middleware(request: web.Request, handler):
    started = time.perf_counter()
    response = await handler(request)
    if response.prepared:  # a stream (live updates) sent its own headers long ago
        return response
    # The time spent on the server (browser dev tools and bench/admin_pages.py read it).
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
        "form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("Cache-Control", "no-store")
    return response


async def read_form(request: web.Request):
    """The posted form (read once; handlers asking again get the same). A body that is no form
    (a broken multipart, an unknown charset) is a 400, not a crash."""
    try:
        return await request.post()
    except (ValueError, LookupError) as exc:
        raise web.HTTPBadRequest(text="表单内容无法识别") from exc


def session_for(request: web.Request) -> StaffSession:
    return request[SESSION]


def path_id(request: web.Request, name: str = "id") -> int:
    """The {id} (or another id part) of the URL: ASCII digits only (a made-up or odd id is
    simply not found)."""
    raw = request.match_info[name]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    return int(raw)


def client_address(request: web.Request) -> str:
    """The client's address (commerce.proxies.client_address)."""
    return proxies.client_address(
        peer=request.remote or "",
        forwarded_for=request.headers.get("X-Forwarded-For", ""),
        trusted_proxies=request.app[CORE].settings.trusted_proxies,
    )


def is_https(request: web.Request) -> bool:
    """Whether the browser reached us over HTTPS (a trusted proxy may have ended TLS)."""
    return request.secure or proxies.forwarded_https(
        peer=request.remote or "",
        forwarded_proto=request.headers.get("X-Forwarded-Proto", ""),
        trusted_proxies=request.app[CORE].settings.trusted_proxies,
    )
