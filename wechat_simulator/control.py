"""Control endpoints for people and tests: what a phone would do, and a look inside."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from wechat_simulator.keys import STATE
from wechat_simulator.replies import json_body
from wechat_simulator.state import SimulatorState

_USER = re.compile(r"^[\w.-]{1,64}$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _request(request: web.Request) -> tuple[SimulatorState, dict[str, Any] | None, str]:
    state = request.app[STATE]
    body = await json_body(request)
    if body is None:
        return state, None, ""
    appid = body.get("appid") or next(iter(state.config.apps))
    return state, body, appid


async def login_code(request: web.Request) -> web.Response:
    """{"user": "alice"} -> {"code"}: what wx.login() gives the mini-program of that user."""
    state, body, appid = await _request(request)
    if body is None or not _USER.match(str(body.get("user", ""))):
        return _bad('需要 JSON {"user": "alice"}（字母、数字、下划线，最长 64）')
    if appid not in state.config.apps:
        return _bad("未知的 appid")
    return web.json_response(
        {"code": state.issue_grant(appid, body["user"]), "openid": state.openid(appid, body["user"])}
    )


async def phone_code(request: web.Request) -> web.Response:
    """{"user", "phone"} -> {"code"}: what getPhoneNumber gives when the user allows it."""
    state, body, appid = await _request(request)
    if (
        body is None
        or not _USER.match(str(body.get("user", "")))
        or not _PHONE.match(str(body.get("phone", "")))
    ):
        return _bad('需要 JSON {"user": "alice", "phone": "13800138000"}')
    if appid not in state.config.apps:
        return _bad("未知的 appid")
    return web.json_response({"code": state.issue_grant(appid, body["user"], phone=body["phone"])})


async def expire_token(request: web.Request) -> web.Response:
    """{"appid"}: the app's current access token expires now (to test 42001 handling)."""
    state, body, appid = await _request(request)
    if body is None:
        return _bad('需要 JSON {"appid": "..."}')
    app = state.apps.get(appid)
    if app and app.stable:
        app.stable.expires_at = state.now()
    return web.json_response({"expired": bool(app and app.stable)})


async def inspect_state(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response(
        {
            "apps": {
                appid: {
                    "tokens_issued": app.issued,
                    "current_token": app.stable.value if app.stable else None,
                }
                for appid, app in state.apps.items()
            },
            "codes_issued": len(state.grants),
            "codes_used": sum(grant.used for grant in state.grants.values()),
        }
    )
