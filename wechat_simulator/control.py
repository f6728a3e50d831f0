"""Control endpoints for people and tests: what a phone would do, failures on demand, and a
look inside. Bad input is a 400 with {"error": "..."}; never a 500."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from wechat_simulator.api import APIS, PAY_APIS
from wechat_simulator.keys import STATE
from wechat_simulator.replies import json_body
from wechat_simulator.state import CODE_TTL, Fault, SimulatorState

_USER = re.compile(r"^[\w.-]{1,64}$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_MAX_FAULTS = 100
_PAY_CODE = re.compile(r"^[A-Z_]{1,32}$")


class _BadInput(Exception):
    pass


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _read(request: web.Request, usage: str) -> tuple[SimulatorState, dict[str, Any], str]:
    """The state, the JSON object sent, and the appid it names (default: the first app)."""
    state = request.app[STATE]
    body = await json_body(request)
    if body is None:
        raise _BadInput(f"需要 JSON 对象 {usage}")
    appid = body.get("appid", next(iter(state.config.apps)))
    if not isinstance(appid, str) or appid not in state.config.apps:
        raise _BadInput("未知的 appid")
    return state, body, appid


def _user(body: dict[str, Any], usage: str) -> str:
    user = body.get("user")
    if not isinstance(user, str) or not _USER.match(user):
        raise _BadInput(f"需要 {usage}（user：字母、数字、下划线、点或横线，最长 64）")
    return user


@web.middleware
async def bad_input_is_400(request: web.Request, handler):
    try:
        return await handler(request)
    except _BadInput as exc:
        return _bad(str(exc))


async def login_code(request: web.Request) -> web.Response:
    """{"user": "alice", "appid"?} -> {"code", "openid", "unionid", "expires_in"}: what
    wx.login() gives that user's mini-program. The same name is always the same person."""
    usage = '{"user": "alice"}'
    state, body, appid = await _read(request, usage)
    user = _user(body, usage)
    return web.json_response(
        {
            "code": state.issue_grant(appid, user),
            "openid": state.openid(appid, user),
            "unionid": state.unionid(user),
            "expires_in": int(CODE_TTL.total_seconds()),
        }
    )


async def phone_code(request: web.Request) -> web.Response:
    """{"user", "phone", "appid"?} -> {"code"}: what getPhoneNumber gives when the user allows it."""
    usage = '{"user": "alice", "phone": "13800138000"}'
    state, body, appid = await _read(request, usage)
    user = _user(body, usage)
    phone = body.get("phone")
    if not isinstance(phone, str) or not _PHONE.match(phone):
        return _bad(f"需要 {usage}（phone：11 位手机号）")
    return web.json_response(
        {"code": state.issue_grant(appid, user, phone=phone), "expires_in": int(CODE_TTL.total_seconds())}
    )


async def expire_token(request: web.Request) -> web.Response:
    """{"appid"?}: the app's current access tokens expire now (to exercise 42001 handling)."""
    state, _, appid = await _read(request, '{"appid": "..."}')
    app = state.apps.get(appid)
    expired = False
    now = state.now()
    for token in (app.stable, app.classic) if app else ():
        if token is not None and token.expires_at > now:
            token.expires_at = now
            expired = True
    return web.json_response({"expired": expired})


async def add_faults(request: web.Request) -> web.Response:
    """{"api": "jscode2session", "errcode": -1 | "http_status": 502, "times"?: 1}: the next
    calls of that API fail so, whatever they ask. A WeChat Pay API also takes
    {"http_status": 429, "code": "FREQUENCY_LIMITED"}: WeChat Pay's signed refusal with that code."""
    usage = '{"api": "jscode2session", "errcode": -1, "times": 1}'
    state, body, _ = await _read(request, usage)
    api, errcode, status = body.get("api"), body.get("errcode"), body.get("http_status")
    times = body.get("times", 1)
    if api not in APIS:
        return _bad(f"api 应为 {', '.join(APIS)} 之一")
    if (errcode is None) == (status is None):
        return _bad("需要 errcode 或 http_status 之一")
    if errcode is not None and (type(errcode) is not int or errcode == 0):
        return _bad("errcode 应为非零整数")
    if status is not None and (type(status) is not int or not 400 <= status <= 599):
        return _bad("http_status 应为 400–599")
    if type(times) is not int or not 1 <= times <= _MAX_FAULTS:
        return _bad(f"times 应为 1–{_MAX_FAULTS}")
    code = body.get("code")
    if code is not None and (api not in PAY_APIS or status is None):
        return _bad("code 只用于微信支付的接口，且须与 http_status 一起给出")
    if code is not None and (not isinstance(code, str) or not _PAY_CODE.match(code)):
        return _bad("code 应为大写字母和下划线，如 FREQUENCY_LIMITED")
    pending = state.faults.setdefault(api, [])
    pending.extend(Fault(errcode=errcode, http_status=status, code=code) for _ in range(times))
    return web.json_response({"pending": _pending_faults(state)})


async def clear_faults(request: web.Request) -> web.Response:
    request.app[STATE].faults.clear()
    return web.json_response({"pending": {}})


async def inspect_state(request: web.Request) -> web.Response:
    """What WeChat would see: tokens issued, calls received, codes used, failures to come, and
    how much WeChat Pay and the official accounts hold (GET /pay/state and /mp/state show it all)."""
    state = request.app[STATE]
    return web.json_response(
        {
            "now": state.now().isoformat(),
            "apps": {
                appid: {
                    "tokens_issued": app.issued,
                    "forced_refreshes": app.forced,
                    "classic_tokens_issued": app.classic_issued,
                    "current_token": app.stable.value if app.stable else None,
                }
                for appid, app in state.apps.items()
            },
            "calls": dict(state.calls),
            "codes_issued": len(state.grants),
            "codes_used": sum(grant.used for grant in state.grants.values()),
            "faults": _pending_faults(state),
            "pay": {
                "transactions": len(state.pay.transactions),
                "refunds": len(state.pay.refunds),
                "notifications": len(state.pay.notifications),
            },
            "shipping_uploads": sum(len(uploads) for uploads in state.pay.shipping.values()),
            "mp": {
                "followers": sum(f.subscribed is not False for f in state.mp.followers.values()),
                "custom_messages": sum(f.custom_sent for f in state.mp.followers.values()),
                "menus": sorted(state.mp.menus),
                "qrcodes": len(state.mp.qrcodes),
            },
        }
    )


def _pending_faults(state: SimulatorState) -> dict[str, int]:
    return {api: len(faults) for api, faults in state.faults.items()}
