"""Access tokens: /cgi-bin/stable_token (what we use) and the classic /cgi-bin/token.

The two are independent, as at WeChat: a classic token never replaces the stable one.
"""

from __future__ import annotations

from aiohttp import web

from wechat_simulator.api import wechat_api
from wechat_simulator.keys import STATE
from wechat_simulator.replies import error, json_body, ok
from wechat_simulator.state import (
    EARLY_RENEWAL,
    FORCE_REFRESH_GAP,
    FORCE_REFRESHES_PER_DAY,
    SimulatorState,
    Token,
    beijing_day,
)


@wechat_api("stable_token")
async def stable_token(request: web.Request) -> web.Response:
    """POST /cgi-bin/stable_token {grant_type, appid, secret, force_refresh?}

    Normal mode: the current token until five minutes before it expires, then a new one (the
    old one stays valid until its own expiry). Forced: a new token, the old one revoked at
    once; at most 20 a day, and one less than 30 s after the last does not refresh.
    """
    state = request.app[STATE]
    body = await json_body(request)
    if body is None:
        return error(47001)
    errcode = _check_app(state, body.get("grant_type"), body.get("appid"), body.get("secret"))
    if errcode:
        return error(errcode)
    appid, force = body["appid"], body.get("force_refresh") is True
    now = state.now()
    app = state.app(appid)
    current = app.stable
    if force and current is not None and app.last_forced_at and now - app.last_forced_at < FORCE_REFRESH_GAP:
        force = False  # "连续使用该模式时，请保证调用时间隔至少为30s，否则不会刷新"
    if force:
        today = beijing_day(now)
        if app.forced_day != today:
            app.forced_day, app.forced_that_day = today, 0
        if app.forced_that_day >= FORCE_REFRESHES_PER_DAY:
            return error(45009)
        app.forced_that_day += 1
        app.forced += 1
        app.last_forced_at = now
        if current is not None:
            current.revoked = True
        token = state.issue_token(appid)
    elif current is None or current.revoked or current.expires_at - now <= EARLY_RENEWAL:
        token = state.issue_token(appid)
    else:
        token = current
    return _token_reply(state, token)


@wechat_api("token")
async def classic_token(request: web.Request) -> web.Response:
    """GET /cgi-bin/token?grant_type=client_credential&appid&secret: a new token on every
    call (the reason stable_token exists); the previous one keeps working five minutes."""
    state = request.app[STATE]
    q = request.query
    errcode = _check_app(state, q.get("grant_type"), q.get("appid"), q.get("secret"))
    if errcode:
        return error(errcode)
    return _token_reply(state, state.issue_token(q["appid"], kind="classic"))


def _check_app(state: SimulatorState, grant_type: object, appid: object, secret: object) -> int:
    if not appid:
        return 41002
    if not secret:
        return 41004
    if grant_type != "client_credential":
        return 40002
    if not isinstance(appid, str) or appid not in state.config.apps:
        return 40013
    if secret != state.config.apps[appid]:
        return 40125
    return 0


def _token_reply(state: SimulatorState, token: Token) -> web.Response:
    remaining = int((token.expires_at - state.now()).total_seconds())
    return ok({"access_token": token.value, "expires_in": remaining})


def check_access_token(state: SimulatorState, value: str | None) -> tuple[Token | None, int]:
    """The token of an API call, or WeChat's errcode (missing, invalid, expired)."""
    if not value:
        return None, 41001
    token = state.tokens.get(value)
    if token is None or token.revoked:
        return None, 40001
    if token.expires_at <= state.now():
        return None, 42001
    return token, 0
