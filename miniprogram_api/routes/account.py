"""Login with WeChat, the shopper's profile, phone binding.

Errors (besides invalid_request / malformed_json, 400):
- a wrong, expired or used code: 400 invalid_login_code / invalid_phone_code (the mini-program
  calls wx.login() or getPhoneNumber again; 401 is kept for "who are you?");
- a WeChat account WeChat blocks from logging in: 403 login_refused;
- WeChat's rate limit: 429 wechat_rate_limited; WeChat down or busy: 503 wechat_unavailable;
- a missing, forged, expired or revoked session token: 401 unauthenticated / session_expired.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from aiohttp import web

from commerce.community import binding as community_binding
from commerce.errors import CommerceError
from commerce.referrals import scenes as referral_scenes
from commerce.users import services as users
from commerce.users.services import Shopper
from miniprogram_api.keys import CORE
from miniprogram_api.routing import Router
from miniprogram_api.schemas.account import CodeIn, LoginOut, UserEnvelope

router = Router()
TAG = "账号"
log = logging.getLogger(__name__)


@router.post(
    "/auth/login", summary="微信登录（wx.login 的 code 换取会话）", tag=TAG, body=CodeIn, response=LoginOut
)
async def login(request: web.Request, *, body: CodeIn) -> dict[str, Any]:
    core = request.app[CORE]
    result = await users.login_with_code(code=body.code, wechat=core.wechat, settings=core.settings)
    await _bind_leader_scanned_before(result.user.id)
    await _give_kol_touch_before(result.user.id, core.settings.referral_protection_days)
    return {
        "token": result.token,
        "expires_in": result.expires_in,
        "is_new": result.is_new,
        "user": asdict(result.user),
    }


async def _bind_leader_scanned_before(user_id: int) -> None:
    """A follower who scanned a leader's QR code before their first sign-in is bound now; a
    leader gone meanwhile leaves them unbound (the sign-in itself never fails for it)."""
    try:
        await community_binding.bind_pending(user_id=user_id)
    except CommerceError as error:
        log.info("pending leader binding of user %s not taken: %s", user_id, error.code)


async def _give_kol_touch_before(user_id: int, protection_days: int) -> None:
    """A follower who followed or scanned a KOL's QR code before their first sign-in gets that
    touch now (its original time and channel); the sign-in itself never fails for it."""
    try:
        await referral_scenes.give_pending(user_id=user_id, protection_days=protection_days)
    except CommerceError as error:
        log.info("pending KOL touch of user %s not given: %s", user_id, error.code)


@router.post(
    "/auth/phone",
    summary="绑定手机号（getPhoneNumber 的 code）",
    tag=TAG,
    body=CodeIn,
    response=UserEnvelope,
    auth=True,
)
async def bind_phone(request: web.Request, *, body: CodeIn, shopper: Shopper) -> dict[str, Any]:
    user = await users.bind_phone(shopper=shopper, code=body.code, wechat=request.app[CORE].wechat)
    return {"user": asdict(user)}


@router.post("/auth/logout", summary="退出所有设备的登录", tag=TAG, auth=True, status=204)
async def logout(request: web.Request, *, shopper: Shopper) -> web.Response:
    await users.end_all_sessions(shopper=shopper, sessions=request.app[CORE].sessions)
    return web.Response(status=204)


@router.get("/me", summary="我的资料", tag=TAG, response=UserEnvelope, auth=True)
async def me(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    return {"user": asdict(await users.get_profile(shopper=shopper))}
