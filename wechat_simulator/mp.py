"""The official account's APIs: customer-service messages (with WeChat's windows, see mp_state),
the custom menu and parametric QR codes. Every call needs an official account's access token
(a mini-program's is refused with 48001)."""

from __future__ import annotations

import base64
import re
import secrets
from datetime import timedelta
from functools import wraps
from typing import Any

from aiohttp import web

from wechat_simulator.api import wechat_api
from wechat_simulator.keys import STATE
from wechat_simulator.mp_state import QrCode, official_account
from wechat_simulator.replies import api_json_object, error, ok
from wechat_simulator.state import SimulatorState, Token
from wechat_simulator.tokens import check_access_token

OPENID = re.compile(r"^o[A-Za-z0-9_-]{27}$")
MAX_TEXT = 2048  # characters of a customer-service text
MAX_ARTICLES = 8
KEY_TYPES = (
    "click",
    "scancode_push",
    "scancode_waitmsg",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
)
BUTTON_TYPES = (*KEY_TYPES, "view", "miniprogram", "media_id", "article_id", "article_view_limited")
QR_ACTIONS = ("QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE")
QR_DEFAULT_SECONDS = 30
QR_MAX_SECONDS = 2_592_000  # 30 days
QR_MAX_TEMPORARY_ID = 2**32 - 1
QR_MAX_PERMANENT_ID = 100_000
QR_PRUNE_ABOVE = 10_000  # expired codes are forgotten beyond this many
OK = {"errcode": 0, "errmsg": "ok"}


class _Refused(Exception):
    def __init__(self, errcode: int) -> None:
        super().__init__(errcode)
        self.errcode = errcode


async def _call(
    request: web.Request, *, with_body: bool = True
) -> tuple[SimulatorState, Token, dict[str, Any]]:
    """The state, the official account's token and the JSON object sent (44002 empty, 47001
    not a JSON object)."""
    state = request.app[STATE]
    token, errcode = check_access_token(state, request.query.get("access_token"))
    if token is None:
        raise _Refused(errcode)
    if official_account(state, token.appid) is None:
        raise _Refused(48001)
    if not with_body:
        return state, token, {}
    body, errcode = await api_json_object(request)
    if errcode:
        raise _Refused(errcode)
    return state, token, body


def _refusals(handler):
    @wraps(handler)
    async def handle(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except _Refused as refused:
            return error(refused.errcode)

    return handle


# --- customer-service messages (客服消息) ------------------------------------------------------


@wechat_api("custom_send")
@_refusals
async def custom_send(request: web.Request) -> web.Response:
    """POST /cgi-bin/message/custom/send?access_token= {"touser", "msgtype", <msgtype>: {...}}"""
    state, token, body = await _call(request)
    touser, msgtype = body.get("touser"), body.get("msgtype")
    if not isinstance(touser, str) or not OPENID.match(touser):
        raise _Refused(40003)
    user = state.openid_users.get(touser)
    if user is not None and state.openid(token.appid, user) != touser:
        raise _Refused(40003)  # the user's openid in another app (a mini-program's, say)
    _check_message(msgtype, body.get(msgtype) if isinstance(msgtype, str) else None)
    now = state.now()
    follower = state.mp.followers.get((token.appid, touser))
    errcode = follower.charge(now) if follower is not None else 45015
    if errcode:
        raise _Refused(errcode)
    follower.custom_sent += 1
    follower.record("custom", now, msgtype, body[msgtype])
    return ok(OK)


def _check_message(msgtype: object, content: object) -> None:
    if msgtype not in ("text", "news", "image", "link", "miniprogrampage"):
        raise _Refused(40008)
    if not isinstance(content, dict):
        raise _Refused(47001)
    if msgtype == "text":
        text = content.get("content")
        if not isinstance(text, str) or not text:
            raise _Refused(44004)
        if len(text) > MAX_TEXT:
            raise _Refused(45002)
    elif msgtype == "news":
        articles = content.get("articles")
        if not isinstance(articles, list) or not articles:
            raise _Refused(44003)
        if len(articles) > MAX_ARTICLES:
            raise _Refused(45008)
        for article in articles:
            if not isinstance(article, dict) or not _texts(article, "title") or not _optional(article):
                raise _Refused(47001)
    elif msgtype == "image":
        if not _texts(content, "media_id"):
            raise _Refused(40007)
    elif msgtype == "link":
        if not _texts(content, "title", "url") or not _optional(content):
            raise _Refused(47001)
    elif not _texts(content, "title", "appid", "pagepath") or not _optional(content):
        raise _Refused(47001)  # miniprogrampage


def _texts(body: dict[str, Any], *names: str) -> bool:
    return all(isinstance(body.get(name), str) and body[name] for name in names)


def _optional(body: dict[str, Any]) -> bool:
    """The other fields of an article, link or mini-program card are texts when present."""
    names = ("description", "url", "picurl", "thumb_url", "thumb_media_id")
    return all(isinstance(body[name], str) for name in names if body.get(name) is not None)


@wechat_api("user_info")
@_refusals
async def user_info(request: web.Request) -> web.Response:
    """GET /cgi-bin/user/info?access_token=&openid=&lang=zh_CN: a follower's profile (since 2021
    without nickname or picture); {"subscribe": 0, "openid"} for one who does not follow."""
    state, token, _ = await _call(request, with_body=False)
    openid = request.query.get("openid", "")
    user = state.openid_users.get(openid) if OPENID.match(openid) else None
    if user is None or state.openid(token.appid, user) != openid:
        raise _Refused(40003)
    follower = state.mp.followers.get((token.appid, openid))
    if follower is None or not follower.subscribed:
        return ok({"subscribe": 0, "openid": openid, "unionid": state.unionid(user)})
    scene = follower.qr_scene
    at = follower.subscribed_at
    return ok(
        {
            "subscribe": 1,
            "openid": openid,
            "language": "zh_CN",
            "subscribe_time": int(at.timestamp()) if at is not None else 0,
            "unionid": state.unionid(user),
            "remark": "",
            "groupid": 0,
            "tagid_list": [],
            "subscribe_scene": "ADD_SCENE_QR_CODE" if scene is not None else "ADD_SCENE_SEARCH",
            "qr_scene": scene if isinstance(scene, int) else 0,
            "qr_scene_str": scene if isinstance(scene, str) else "",
        }
    )


# --- the custom menu (自定义菜单) ---------------------------------------------------------------


@wechat_api("menu_create")
@_refusals
async def menu_create(request: web.Request) -> web.Response:
    """POST /cgi-bin/menu/create?access_token= {"button": [...]}: 1–3 buttons, each an action
    or a menu of 1–5 sub buttons; names of at most 16 bytes (sub buttons 60)."""
    state, token, body = await _call(request)
    buttons = body.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise _Refused(40016)
    for button in buttons:
        if not isinstance(button, dict):
            raise _Refused(40017)
        _check_size(button.get("name"), 16, 40018)
        subs = button.get("sub_button")
        if not subs:
            _check_action(button, (40017, 40019, 40020))
            continue
        if not isinstance(subs, list) or len(subs) > 5:
            raise _Refused(40023)
        for sub in subs:
            if not isinstance(sub, dict):
                raise _Refused(40024)
            if sub.get("sub_button"):
                raise _Refused(40022)
            _check_size(sub.get("name"), 60, 40025)
            _check_action(sub, (40024, 40026, 40027))
    state.mp.menus[token.appid] = buttons
    return ok(OK)


def _check_action(button: dict[str, Any], errcodes: tuple[int, int, int]) -> None:
    """errcodes: wrong type, key size, url size (of a top button or of a sub button)."""
    kind = button.get("type")
    if kind not in BUTTON_TYPES:
        raise _Refused(errcodes[0])
    if kind in KEY_TYPES:
        _check_size(button.get("key"), 128, errcodes[1])
    elif kind in ("view", "miniprogram"):
        _check_size(button.get("url"), 1024, errcodes[2])
        if kind == "miniprogram" and not _texts(button, "appid", "pagepath"):
            raise _Refused(40097)
    elif kind == "media_id" and not _texts(button, "media_id"):
        raise _Refused(40007)
    elif kind in ("article_id", "article_view_limited") and not _texts(button, "article_id"):
        raise _Refused(40097)


def _check_size(text: object, max_bytes: int, errcode: int) -> None:
    if not isinstance(text, str) or not text or len(text.encode()) > max_bytes:
        raise _Refused(errcode)


@wechat_api("menu_get")
@_refusals
async def menu_info(request: web.Request) -> web.Response:
    """GET /cgi-bin/get_current_selfmenu_info?access_token= -> {"is_menu_open", "selfmenu_info"}"""
    state, token, _ = await _call(request, with_body=False)
    buttons = state.mp.menus.get(token.appid)
    shown = [
        {"name": b["name"], "sub_button": {"list": b["sub_button"]}} if b.get("sub_button") else b
        for b in buttons or ()
    ]
    return ok({"is_menu_open": int(buttons is not None), "selfmenu_info": {"button": shown}})


@wechat_api("menu_delete")
@_refusals
async def menu_delete(request: web.Request) -> web.Response:
    """GET /cgi-bin/menu/delete?access_token="""
    state, token, _ = await _call(request, with_body=False)
    state.mp.menus.pop(token.appid, None)
    return ok(OK)


# --- parametric QR codes (带参数二维码) ---------------------------------------------------------


@wechat_api("qrcode_create")
@_refusals
async def qrcode_create(request: web.Request) -> web.Response:
    """POST /cgi-bin/qrcode/create?access_token= {"expire_seconds"?, "action_name", "action_info":
    {"scene": {"scene_id" | "scene_str"}}} -> {"ticket", "expire_seconds" (temporary), "url"}"""
    state, token, body = await _call(request)
    action, info = body.get("action_name"), body.get("action_info")
    if action not in QR_ACTIONS:
        raise _Refused(40097)
    scene = info.get("scene") if isinstance(info, dict) else None
    if not isinstance(scene, dict):
        raise _Refused(40053)
    permanent = action.startswith("QR_LIMIT")
    value: int | str
    if action.endswith("STR_SCENE"):
        value = scene.get("scene_str")
        if not isinstance(value, str):
            raise _Refused(40053)
        if not 1 <= len(value) <= 64:
            raise _Refused(40097)
    else:
        value = scene.get("scene_id")
        if type(value) is not int:
            raise _Refused(40053)
        if not 1 <= value <= (QR_MAX_PERMANENT_ID if permanent else QR_MAX_TEMPORARY_ID):
            raise _Refused(40097)
    seconds = body.get("expire_seconds", QR_DEFAULT_SECONDS)
    if not permanent and (type(seconds) is not int or seconds < 1):
        raise _Refused(40097)
    now = state.now()
    if len(state.mp.qrcodes) > QR_PRUNE_ABOVE:
        state.mp.qrcodes = {t: q for t, q in state.mp.qrcodes.items() if q.live(now)}
    url = "http://weixin.qq.com/q/" + secrets.token_urlsafe(18)
    ticket = base64.b64encode(secrets.token_bytes(6) + url.encode() + secrets.token_bytes(8)).decode()
    seconds = min(seconds, QR_MAX_SECONDS) if not permanent else 0
    expires_at = None if permanent else now + timedelta(seconds=seconds)
    state.mp.qrcodes[ticket] = QrCode(ticket, token.appid, action, value, url, now, expires_at)
    answer: dict[str, Any] = {"ticket": ticket, "url": url}
    if not permanent:
        answer["expire_seconds"] = seconds
    return ok(answer)
