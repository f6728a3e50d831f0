"""Signing in and out. The sign-in form has no session yet: its CSRF token is a random value in
a cookie that the form must repeat (double submit)."""

from __future__ import annotations

import hmac
import secrets

import aiohttp_jinja2
from aiohttp import web

from admin_web.keys import COOKIE, CORE, LOGIN_CSRF_COOKIE
from admin_web.security import client_address, is_https, read_form
from commerce.errors import CommerceError, ErrorKind
from commerce.staff.auth import sign_in, sign_out


async def login_form(request: web.Request) -> web.Response:
    return _form(request, error="", username="")


async def login(request: web.Request) -> web.Response:
    form = await read_form(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(str(form.get("csrf_token", "")), expected):
        return _form(request, error="页面已过期，请重新登录", username="", status=403)
    username = str(form.get("username", ""))
    try:
        token = await sign_in(
            username=username,
            password=str(form.get("password", "")),
            address=client_address(request),
            redis_client=request.app[CORE].redis,
        )
    except CommerceError as error:
        status = {ErrorKind.RATE_LIMITED: 429, ErrorKind.FORBIDDEN: 403}.get(error.kind, 401)
        return _form(request, error=error.message, username=username, status=status)
    response = web.HTTPFound("/admin/")
    # A browser-session cookie: the server ends the session (2 h idle, 12 h at most).
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        path="/admin",
        secure=is_https(request),
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/admin")
    raise response


async def logout(request: web.Request) -> web.Response:
    await sign_out(token=request.cookies.get(COOKIE, ""), redis_client=request.app[CORE].redis)
    response = web.HTTPFound("/admin/login")
    response.del_cookie(COOKIE, path="/admin")
    raise response


def _form(request: web.Request, *, error: str, username: str, status: int = 200) -> web.Response:
    token = secrets.token_urlsafe(32)
    response = aiohttp_jinja2.render_template(
        "login.html", request, {"error": error, "username": username, "csrf_token": token}, status=status
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", path="/admin", secure=is_https(request)
    )
    return response
