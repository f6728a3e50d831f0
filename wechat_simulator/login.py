"""Mini-program login (jscode2session) and the phone-number API."""

from __future__ import annotations

import secrets

from aiohttp import web

from wechat_simulator.keys import STATE
from wechat_simulator.replies import error, json_body, ok
from wechat_simulator.state import Grant, SimulatorState
from wechat_simulator.tokens import check_access_token


async def jscode2session(request: web.Request) -> web.Response:
    state = request.app[STATE]
    q = request.query
    if q.get("grant_type") != "authorization_code":
        return error(40002)
    appid = q.get("appid", "")
    if appid not in state.config.apps:
        return error(40013)
    if q.get("secret") != state.config.apps[appid]:
        return error(40125)
    grant, refusal = _redeem(state, q.get("js_code"), appid, phone=False)
    if refusal:
        return refusal
    return ok(
        {
            "openid": state.openid(appid, grant.user),
            "unionid": state.unionid(grant.user),
            "session_key": secrets.token_urlsafe(18),
        }
    )


async def get_user_phone_number(request: web.Request) -> web.Response:
    state = request.app[STATE]
    token, refusal = check_access_token(state, request.query.get("access_token"))
    if refusal:
        return refusal
    body = await json_body(request)
    if body is None:
        return error(47001)
    grant, refusal = _redeem(state, body.get("code"), token.appid, phone=True)
    if refusal:
        return refusal
    return ok(
        {
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {
                "phoneNumber": grant.phone,
                "purePhoneNumber": grant.phone,
                "countryCode": "86",
                "watermark": {"timestamp": int(state.now().timestamp()), "appid": token.appid},
            },
        }
    )


def _redeem(
    state: SimulatorState, code, appid: str, *, phone: bool
) -> tuple[Grant | None, web.Response | None]:
    """Use a single-use code: unknown, expired, for another app or kind → 40029; reused → 40163."""
    if not code or not isinstance(code, str):
        return None, error(41008)
    grant = state.grants.get(code)
    if grant is None or grant.appid != appid or bool(grant.phone) != phone:
        return None, error(40029)
    if grant.used:
        return None, error(40163)
    if grant.expires_at <= state.now():
        return None, error(40029)
    grant.used = True
    return grant, None
