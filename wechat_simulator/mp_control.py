"""The official accounts' followers, played by the simulator: what they send is pushed to the
account's webhook as WeChat pushes it (see mp_push), and the answer is read back.

Control endpoints, bad input is a 400 {"error"}:
  POST /mp/send       a follower sends a message or an event -> what the webhook answered
  GET  /mp/messages   ?user=alice[&appid=]: all exchanged with that follower, the windows open
  GET  /mp/state      followers, menus, QR codes, customer-service messages sent
"""

from __future__ import annotations

import re
import secrets
from functools import wraps
from typing import Any

from aiohttp import web
from wechatpy.crypto import WeChatCrypto

from wechat_simulator.config import PUSH_MODES, OfficialAccount
from wechat_simulator.keys import STATE
from wechat_simulator.mp_push import TAMPERING, Push, deliver
from wechat_simulator.mp_state import MESSAGE_TYPES, WINDOW_EVENTS, QrCode, original_id
from wechat_simulator.replies import json_body
from wechat_simulator.state import SimulatorState

KINDS = ("text", "image", "voice", "location", "link", "event")
EVENTS = ("subscribe", "unsubscribe", "SCAN", "CLICK", "VIEW", "TEMPLATESENDJOBFINISH")
TEMPLATE_STATUSES = ("success", "failed:user block", "failed: system failed")
USAGE = '{"user": "alice", "type": "text", "content": "你好"}'
_USER = re.compile(r"^[\w.-]{1,64}$")


class _Bad(Exception):
    pass


def _control(handler):
    @wraps(handler)
    async def handle(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except _Bad as exc:
            return web.json_response({"error": str(exc)}, status=400)

    return handle


@_control
async def send(request: web.Request) -> web.Response:
    """{"user", "appid"?, "type": "text" | "image" | "voice" | "location" | "link" | "event",
    "content"?, "event"?, "event_key"?, "scene"? | "ticket"?, "location"?: {x, y, label?, scale?},
    "link"?: {title, description?, url}, "status"?, "msg_id"?, "create_time"?, "mode"?: "safe" |
    "compatible" | "plain" (or "safe_mode"?: true | false; default: the account's),
    "tamper"?: "signature" | "body" | "stale"} -> {"status", "attempts", "reply", "raw", "msg_id",
    "error"}: the follower sends it, WeChat pushes it to the webhook and reads the answer."""
    state = request.app[STATE]
    body = await json_body(request)
    if body is None:
        raise _Bad(f"需要 JSON 对象 {USAGE}")
    push = _read_push(state, body)
    _record_in(state, push)
    return web.json_response(await deliver(state, push))


@_control
async def messages(request: web.Request) -> web.Response:
    """?user=alice[&appid=] -> {"openid", "user", "subscribed", "messages": [{"direction": "in" |
    "reply" | "custom", "at", "msgtype", "body"}], "window": {"open", "remaining", "windows"}}"""
    state = request.app[STATE]
    account, user = _account(state, request.query.get("appid")), _user(request.query.get("user"))
    openid = state.openid(account.appid, user)
    follower = state.mp.followers.get((account.appid, openid))
    now = state.now()
    windows = follower.open_windows(now) if follower is not None and follower.subscribed is not False else []
    left = [w.remaining() for w in windows]
    remaining = None if None in left else sum(r or 0 for r in left)
    return web.json_response(
        {
            "openid": openid,
            "user": user,
            "subscribed": follower.subscribed if follower is not None else None,
            "messages": follower.messages if follower is not None else [],
            "window": {
                "open": remaining is None or remaining > 0,
                "remaining": remaining,  # customer-service messages still allowed; null: no limit
                "windows": [w.view() for w in windows],
            },
        }
    )


async def inspect(request: web.Request) -> web.Response:
    """Followers, menus, QR codes and customer-service messages sent, per official account."""
    state = request.app[STATE]
    return web.json_response(state.mp.snapshot(state))


# --- what the follower sends --------------------------------------------------------------------


def _account(state: SimulatorState, appid: object) -> OfficialAccount:
    accounts = state.config.official_accounts
    if not accounts:
        raise _Bad("没有配置公众号（SimulatorConfig.official_accounts）")
    found = next((a for a in accounts if a.appid == appid), accounts[0] if appid is None else None)
    if found is None:
        raise _Bad("未知的公众号 appid")
    return found


def _user(user: object) -> str:
    if not isinstance(user, str) or not _USER.match(user):
        raise _Bad("需要 user（字母、数字、下划线、点或横线，最长 64）")
    return user


def _text(body: dict[str, Any], name: str, max_len: int, *, required: bool = True) -> str:
    value = body.get(name, None if required else "")
    if not isinstance(value, str) or (required and not value) or len(value) > max_len:
        raise _Bad(f"{name} 应为{'非空' if required else ''}字符串（最长 {max_len}）")
    return value


def _int(body: dict[str, Any], name: str, default: int, top: int = 2**63 - 1) -> int:
    value = body.get(name, default)
    if type(value) is not int or not 1 <= value <= top:
        raise _Bad(f"{name} 应为 1–{top} 的整数")
    return value


def _read_push(state: SimulatorState, body: dict[str, Any]) -> Push:
    account, user = _account(state, body.get("appid")), _user(body.get("user"))
    kind, mode, tamper = body.get("type", "text"), _mode(body, account), body.get("tamper")
    if kind not in KINDS:
        raise _Bad(f"type 应为 {', '.join(KINDS)} 之一")
    if tamper is not None and tamper not in TAMPERING:
        raise _Bad(f"tamper 应为 {', '.join(TAMPERING)} 之一")
    if mode != "plain":
        try:
            WeChatCrypto(account.token, account.aes_key, account.appid)
        except (ValueError, AssertionError):
            raise _Bad("安全模式和兼容模式需要有效的 EncodingAESKey（43 个字符）") from None
    now = state.now()
    openid = state.openid(account.appid, user)
    follower = state.mp.followers.get((account.appid, openid))
    subscribed = follower.subscribed if follower is not None else None
    fields: dict[str, Any] = {
        "ToUserName": original_id(account.appid),
        "FromUserName": openid,
        "CreateTime": _int(body, "create_time", int(now.timestamp())),
    }
    if kind == "event":
        fields.update(_event(state, account.appid, body, subscribed))
    else:
        if subscribed is False:
            raise _Bad("该用户已取消关注，发不了消息（先关注）")
        fields["MsgType"] = kind
        fields.update(_message(kind, body))
        fields["MsgId"] = _int(body, "msg_id", _msg_id())
    return Push(account, user, openid, fields, mode, tamper)


def _mode(body: dict[str, Any], account: OfficialAccount) -> str:
    """The "mode" asked for (safe, compatible, plain), else "safe_mode" true/false, else the account's."""
    if "mode" in body:
        if body["mode"] not in PUSH_MODES:
            raise _Bad(f"mode 应为 {', '.join(PUSH_MODES)} 之一")
        return body["mode"]
    safe_mode = body.get("safe_mode")
    if safe_mode is None:
        return account.mode
    if not isinstance(safe_mode, bool):
        raise _Bad("safe_mode 应为 true 或 false")
    return "safe" if safe_mode else "plain"


def _msg_id() -> int:
    return 10**18 + secrets.randbelow(2**63 - 10**18)


def _message(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    media_id = secrets.token_urlsafe(48)
    if kind == "text":
        return {"Content": _text(body, "content", 2048)}
    if kind == "image":
        pic = f"http://mmbiz.qpic.cn/mmbiz_jpg/{secrets.token_urlsafe(24)}/0"
        return {"PicUrl": _text(body, "pic_url", 1024, required=False) or pic, "MediaId": media_id}
    if kind == "voice":
        recognition = _text(body, "content", 2048, required=False)
        return {"MediaId": media_id, "Format": "amr", "Recognition": recognition}
    if kind == "location":
        where = body.get("location")
        x, y = (where.get("x"), where.get("y")) if isinstance(where, dict) else (None, None)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (x, y)):
            raise _Bad('location 应为 {"x": 纬度, "y": 经度, "label"?: "地点", "scale"?: 15}')
        label = _text(where, "label", 256, required=False)
        return {"Location_X": x, "Location_Y": y, "Scale": _int(where, "scale", 15, 20), "Label": label}
    link = body.get("link")
    if not isinstance(link, dict):
        raise _Bad('link 应为 {"title", "description"?, "url"}')
    return {
        "Title": _text(link, "title", 256),
        "Description": _text(link, "description", 1024, required=False),
        "Url": _text(link, "url", 2048),
    }


def _event(
    state: SimulatorState, appid: str, body: dict[str, Any], subscribed: bool | None
) -> dict[str, Any]:
    event = body.get("event")
    if event not in EVENTS:
        raise _Bad(f"event 应为 {', '.join(EVENTS)} 之一")
    fields: dict[str, Any] = {"MsgType": "event", "Event": event}
    if event in ("subscribe", "SCAN"):
        qrcode = _qrcode(state, appid, body)
        if event == "subscribe" and subscribed is True and qrcode is None:
            raise _Bad("该用户已关注")
        if qrcode is None:
            if event == "SCAN":
                raise _Bad("SCAN 需要 scene 或 ticket（先用 /cgi-bin/qrcode/create 生成二维码）")
            return fields
        # WeChat: a follower scanning is SCAN, anyone else subscribes through the code
        scan = subscribed is True or (event == "SCAN" and subscribed is None)
        key = str(qrcode.scene) if scan else f"qrscene_{qrcode.scene}"
        return {**fields, "Event": "SCAN" if scan else "subscribe", "EventKey": key, "Ticket": qrcode.ticket}
    if event == "unsubscribe":
        if subscribed is False:
            raise _Bad("该用户没有关注")
        return fields
    if subscribed is False:
        raise _Bad("该用户已取消关注，看不到菜单")
    if event == "TEMPLATESENDJOBFINISH":
        status = body.get("status", "success")
        if status not in TEMPLATE_STATUSES:
            raise _Bad(f"status 应为 {', '.join(TEMPLATE_STATUSES)} 之一")
        return {**fields, "MsgID": _int(body, "msg_id", _msg_id()), "Status": status}
    key = _text(body, "event_key", 128 if event == "CLICK" else 1024)
    menu = state.mp.menus.get(appid)
    if menu is not None and key not in _menu_keys(menu, event):
        raise _Bad(f"当前菜单里没有这个 {'key' if event == 'CLICK' else 'url'}")
    return {**fields, "EventKey": key}


def _menu_keys(menu: list[dict[str, Any]], event: str) -> set[str]:
    leaves = [sub for button in menu for sub in (button.get("sub_button") or [button])]
    if event == "CLICK":
        return {b["key"] for b in leaves if b.get("type") == "click"}
    return {b["url"] for b in leaves if b.get("type") == "view"}


def _qrcode(state: SimulatorState, appid: str, body: dict[str, Any]) -> QrCode | None:
    ticket, scene, now = body.get("ticket"), body.get("scene"), state.now()
    if ticket is not None:
        qrcode = state.mp.qrcodes.get(ticket) if isinstance(ticket, str) else None
        if qrcode is None or qrcode.appid != appid:
            raise _Bad("未知的二维码 ticket")
        if not qrcode.live(now):
            raise _Bad("二维码已过期")
        return qrcode
    if scene is None:
        return None
    if not isinstance(scene, str | int) or isinstance(scene, bool):
        raise _Bad("scene 应为字符串或整数")
    qrcode = state.mp.qrcode_for(appid, str(scene), now)
    if qrcode is None:
        raise _Bad("该公众号没有这个场景值的有效二维码（先用 /cgi-bin/qrcode/create 生成）")
    return qrcode


def _record_in(state: SimulatorState, push: Push) -> None:
    """The follower sent it: who follows, and the customer-service windows it opens."""
    now, fields = state.now(), push.fields
    follower = state.mp.follower(state, push.account.appid, push.user)
    event = fields.get("Event")
    if event == "subscribe":
        follower.subscribed, follower.subscribed_at = True, now
        qrcode = state.mp.qrcodes.get(fields.get("Ticket", ""))
        follower.qr_scene = qrcode.scene if qrcode is not None else None
    elif event == "unsubscribe":
        follower.subscribed = False
        follower.windows.clear()
    elif follower.subscribed is None and event != "TEMPLATESENDJOBFINISH":
        follower.subscribed = True  # only followers write to an account
    if fields["MsgType"] in MESSAGE_TYPES:
        follower.open_window("message", now)
    elif event in WINDOW_EVENTS:
        follower.open_window("event", now)
    shown = {k: v for k, v in fields.items() if k not in ("ToUserName", "FromUserName")}
    follower.record("in", now, fields["MsgType"], shown)
