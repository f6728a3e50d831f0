"""Access tokens: /cgi-bin/stable_token (what we use) and the classic /cgi-bin/token."""

from __future__ import annotations

from aiohttp import web

from wechat_simulator.keys import STATE
from wechat_simulator.replies import error, json_body, ok
from wechat_simulator.state import EARLY_RENEWAL, FORCE_REFRESH_GAP, SimulatorState, Token


async def stable_token(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await json_body(request)
    if body is None:
        return error(47001)
    refusal = _check_app(state, body.get("grant_type"), body.get("appid"), body.get("secret"))
    if refusal:
        return refusal
    appid, force = body["appid"], body.get("force_refresh") is True
    now = state.now()
    app = state.apps.get(appid)
    current = app.stable if app else None
    if force and current and app.last_forced_at and now - app.last_forced_at < FORCE_REFRESH_GAP:
        force = False  # WeChat ignores force refreshes less than 30 s apart
    if force:
        if current:
            current.revoked = True  # the previous token stops working at once
        token = state.issue_token(appid)
        state.apps[appid].last_forced_at = now
    elif current is None or current.revoked or current.expires_at - now <= EARLY_RENEWAL:
        # Renewed early; an old token stays valid until its own expiry.
        token = state.issue_token(appid)
    else:
        token = current
    return _token_reply(state, token)


async def classic_token(request: web.Request) -> web.Response:
    """Every call issues a new token (the reason stable_token exists)."""
    state = request.app[STATE]
    q = request.query
    refusal = _check_app(state, q.get("grant_type"), q.get("appid"), q.get("secret"))
    if refusal:
        return refusal
    return _token_reply(state, state.issue_token(q["appid"]))


def _check_app(state: SimulatorState, grant_type, appid, secret) -> web.Response | None:
    if grant_type != "client_credential":
        return error(40002)
    if appid not in state.config.apps:
        return error(40013)
    if secret != state.config.apps[appid]:
        return error(40125)
    return None


def _token_reply(state: SimulatorState, token: Token) -> web.Response:
    remaining = int((token.expires_at - state.now()).total_seconds())
    return ok({"access_token": token.value, "expires_in": remaining})


def check_access_token(state: SimulatorState, value: str | None) -> tuple[Token | None, web.Response | None]:
    """The token of an API call, or WeChat's refusal (missing, invalid, expired)."""
    if not value:
        return None, error(41001)
    token = state.tokens.get(value)
    if token is None or token.revoked:
        return None, error(40001)
    if token.expires_at <= state.now():
        return None, error(42001)
    return token, None
