"""Mini-program login (jscode2session) and the phone-number API."""

from __future__ import annotations

import secrets

from aiohttp import web

from wechat_simulator.api import wechat_api
from wechat_simulator.keys import STATE
from wechat_simulator.replies import error, json_body, ok
from wechat_simulator.state import Grant, SimulatorState
from wechat_simulator.tokens import check_access_token


@wechat_api("jscode2session", text_plain=True)
async def jscode2session(request: web.Request) -> web.Response:
    """GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code"""
    state = request.app[STATE]
    q = request.query
    appid, secret = q.get("appid", ""), q.get("secret", "")
    if not appid:
        return error(41002, text_plain=True)
    if not secret:
        return error(41004, text_plain=True)
    if appid not in state.config.apps:
        return error(40013, text_plain=True)
    if secret != state.config.apps[appid]:
        return error(40125, text_plain=True)
    if q.get("grant_type") != "authorization_code":
        return error(40002, text_plain=True)
    grant, errcode = _redeem(state, q.get("js_code"), appid, phone=False)
    if grant is None:
        return error(errcode, text_plain=True)
    return ok(
        {
            "session_key": secrets.token_urlsafe(18),
            "openid": state.openid(appid, grant.user),
            "unionid": state.unionid(grant.user),
        },
        text_plain=True,
    )


@wechat_api("getuserphonenumber")
async def get_user_phone_number(request: web.Request) -> web.Response:
    """POST /wxa/business/getuserphonenumber?access_token= {"code", "openid"?}"""
    state = request.app[STATE]
    token, errcode = check_access_token(state, request.query.get("access_token"))
    if token is None:
        return error(errcode)
    body = await json_body(request)
    if body is None:
        return error(47001)
    code, openid = body.get("code"), body.get("openid")
    grant = state.grants.get(code) if isinstance(code, str) else None
    if openid is not None and grant is not None and openid != state.openid(token.appid, grant.user):
        # WeChat checks the code belongs to that user when the caller names one.
        return error(40029)
    grant, errcode = _redeem(state, code, token.appid, phone=True)
    if grant is None:
        return error(errcode)
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


def _redeem(state: SimulatorState, code: object, appid: str, *, phone: bool) -> tuple[Grant | None, int]:
    """Use a single-use code: missing → 41008; unknown, expired, for another app or of the
    other kind → 40029; used before → 40163."""
    if not code or not isinstance(code, str):
        return None, 41008
    grant = state.grants.get(code)
    if grant is None or grant.appid != appid or bool(grant.phone) != phone:
        return None, 40029
    if grant.used:
        return None, 40163
    if grant.expires_at <= state.now():
        return None, 40029
    grant.used = True
    return grant, 0
