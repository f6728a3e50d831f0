"""Mini-program subscribe messages (订阅消息), one-time subscriptions: the user accepts a template
on the phone (wx.requestSubscribeMessage), and each acceptance lets the app send that user one
message of that template (subscribeMessage.send).

  POST /wx/subscribe               the phone: {"user", "template_ids": [1-3], "decision": "accept" |
                                   "reject", "appid"?} -> {"results": {template_id: "accept" | ...}}
  GET  /wx/subscribe-messages      ?user=&appid=: the messages sent, the acceptances left
  POST /cgi-bin/message/subscribe/send?access_token=   the API (with the mini-program's token)

WeChat's rules for the data: the keys are the template's keywords, each {"value": text}
following its kind's rule (the key's prefix): thing 20 characters, phrase 5 Chinese characters,
character_string 32 letters, digits or symbols, ... (47003 otherwise). An unknown template is
40037, another app's openid 40003, no acceptance left 43101."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from aiohttp import web

from wechat_simulator.api import wechat_api
from wechat_simulator.config import SUBSCRIBE_KEY
from wechat_simulator.control import _BadInput, _read, _user
from wechat_simulator.keys import STATE
from wechat_simulator.mp import OPENID
from wechat_simulator.mp_state import official_account
from wechat_simulator.replies import api_json_object, error, ok
from wechat_simulator.state import SimulatorState, SubscribeMessage, Token
from wechat_simulator.tokens import check_access_token

MAX_TEMPLATES_PER_REQUEST = 3  # wx.requestSubscribeMessage takes at most 3 template ids
DECISIONS = ("accept", "reject")
MINIPROGRAM_STATES = ("developer", "trial", "formal")
LANGS = ("zh_CN", "en_US", "zh_HK", "zh_TW")
# WeChat's messages for the errcodes of this API that replies.ERRORS does not know.
ERRMSGS = {
    40037: "invalid template_id",
    43101: "user refuse to accept the msg",
    47003: "argument invalid!",
}

_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_SYMBOLS = r"!-/:-@\[-`{-~"  # ASCII punctuation
_MONTH = r"(0?[1-9]|1[0-2])"
_DAY = r"(0?[1-9]|[12][0-9]|3[01])"
_DATE = rf"([0-9]{{4}}[-/.]{_MONTH}[-/.]{_DAY}|[0-9]{{4}}年{_MONTH}月{_DAY}日)"
_CLOCK = r"([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?"
_TIME_POINT = rf"({_DATE} ?)?{_CLOCK}"  # a time of day, with its date or not
_DATE_POINT = rf"{_DATE}( ?{_CLOCK})?"  # a date, with a time of day or not


def _name(value: str) -> bool:
    """10 Chinese characters (mixed with letters, it counts as Chinese), or 20 letters or symbols."""
    if re.search(r"[0-9]", value):
        return False
    if re.search(f"[{_CJK}]", value):
        return len(value) <= 10 and re.fullmatch(rf"[{_CJK}A-Za-z·• ]+", value) is not None
    return len(value) <= 20 and re.fullmatch(rf"[A-Za-z{_SYMBOLS} ]+", value) is not None


def _matches(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda value: compiled.fullmatch(value) is not None


def _span(point: str) -> Callable[[str], bool]:
    """A point, or two joined by "~" (a period)."""
    return _matches(rf"{point}( ?~ ?{point})?")


# The rule of each kind of keyword (参数值内容限制); every value is also non-empty.
RULES: dict[str, Callable[[str], bool]] = {
    "thing": lambda value: len(value) <= 20,
    "number": lambda value: (
        re.fullmatch(r"[0-9]+(\.[0-9]+)?", value) is not None and len(value.replace(".", "")) <= 32
    ),
    "letter": _matches(r"[A-Za-z]{1,32}"),
    "symbol": _matches(rf"[{_SYMBOLS}]{{1,5}}"),
    "character_string": _matches(rf"[0-9A-Za-z{_SYMBOLS}]{{1,32}}"),
    "time": _span(_TIME_POINT),
    "date": _span(_DATE_POINT),
    "amount": _matches(r"[¥￥$€£]?[0-9]{1,10}(\.[0-9]{1,2})?元?"),
    "phone_number": _matches(rf"[0-9{_SYMBOLS} ]{{1,17}}"),
    "car_number": _matches(rf"(?=.{{1,8}}$)[{_CJK}A-Za-z0-9]([A-Za-z0-9]*[{_CJK}A-Za-z0-9])?"),
    "name": _name,
    "phrase": _matches(f"[{_CJK}]{{1,5}}"),
    "enum": lambda value: True,  # the template's own list of values, not simulated
}


class _Refused(Exception):
    def __init__(self, errcode: int, hint: str = "") -> None:
        super().__init__(errcode)
        self.errcode = errcode
        self.hint = hint


def _refusal(refused: _Refused) -> web.Response:
    if refused.errcode not in ERRMSGS:
        return error(refused.errcode)
    message = " ".join(filter(None, (ERRMSGS[refused.errcode], refused.hint)))
    return ok({"errcode": refused.errcode, "errmsg": f"{message} rid: {secrets.token_hex(6)}"})


# --- the API -----------------------------------------------------------------------------------


def _fault(request: web.Request, errcode: int) -> web.Response:
    """A fault a test asked for, in WeChat's words for this API's errcodes too."""
    return _refusal(_Refused(errcode))


@wechat_api("subscribe_send", errcode_reply=_fault)
async def send(request: web.Request) -> web.Response:
    """POST /cgi-bin/message/subscribe/send?access_token= {"touser", "template_id", "page"?,
    "data": {key: {"value"}}, "miniprogram_state"?, "lang"?} -> {"errcode": 0, "errmsg": "ok",
    "msgid"}; takes one of the user's acceptances of the template."""
    try:
        state, token, body = await _call(request)
        touser = _touser(state, token, body.get("touser"))
        template_id = body.get("template_id")
        keys = state.config.subscribe_templates.get(template_id) if isinstance(template_id, str) else None
        if keys is None:
            raise _Refused(40037)
        data = _data(body.get("data"), keys)
        page = _page(state, body.get("page", ""))
        miniprogram_state = body.get("miniprogram_state", "formal")
        if miniprogram_state not in MINIPROGRAM_STATES:
            raise _Refused(47003, "miniprogram_state invalid")
        if body.get("lang", "zh_CN") not in LANGS:
            raise _Refused(47003, "lang invalid")
        subscriptions = state.subscribe
        accepted = (token.appid, touser, template_id)
        if subscriptions.accepted[accepted] <= 0:
            raise _Refused(43101)
    except _Refused as refused:
        return _refusal(refused)
    subscriptions.accepted[accepted] -= 1
    subscriptions.sent += 1
    subscriptions.record(
        SubscribeMessage(
            msgid=subscriptions.sent,
            appid=token.appid,
            touser=touser,
            template_id=template_id,
            page=page,
            data=data,
            miniprogram_state=miniprogram_state,
            at=state.now(),
        )
    )
    return ok({"errcode": 0, "errmsg": "ok", "msgid": subscriptions.sent})


async def _call(request: web.Request) -> tuple[SimulatorState, Token, dict[str, Any]]:
    """The state, the mini-program's token (an official account's is 48001) and the JSON object
    sent (44002 empty, 47001 not a JSON object)."""
    state = request.app[STATE]
    token, errcode = check_access_token(state, request.query.get("access_token"))
    if token is None:
        raise _Refused(errcode)
    if official_account(state, token.appid) is not None:
        raise _Refused(48001)
    body, errcode = await api_json_object(request)
    if errcode:
        raise _Refused(errcode)
    return state, token, body


def _touser(state: SimulatorState, token: Token, touser: object) -> str:
    """An openid this mini-program gave (the same user's openid in another app is 40003)."""
    if not isinstance(touser, str) or not OPENID.match(touser):
        raise _Refused(40003)
    user = state.openid_users.get(touser)
    if user is not None:
        if state.openid(token.appid, user) != touser:
            raise _Refused(40003)
    elif not any(key[:2] == (token.appid, touser) for key in state.subscribe.accepted):
        raise _Refused(40003)  # never handed out (beyond the users the state remembers)
    return touser


def _data(data: object, keys: tuple[str, ...]) -> dict[str, str]:
    """The template's keywords, each {"value": text} following its kind's rule."""
    if not isinstance(data, dict) or set(data) != set(keys):
        missing = sorted(set(keys) - set(data)) if isinstance(data, dict) else []
        hint = f"data.{missing[0]}.value is empty" if missing else "data invalid"
        raise _Refused(47003, hint)
    values = {}
    for key in keys:
        item = data[key]
        value = item.get("value") if isinstance(item, dict) else None
        if value is None or (isinstance(value, str) and not value.strip()):
            raise _Refused(47003, f"data.{key}.value is empty")
        if not isinstance(value, str):
            raise _Refused(47003, f"data.{key}.value invalid")
        kind = SUBSCRIBE_KEY.match(key).group(1)  # checked with the config
        if not RULES[kind](value):
            raise _Refused(47003, f"data.{key}.value invalid")
        values[key] = value
    return values


def _page(state: SimulatorState, page: object) -> str:
    """A page of the published mini-program, with a query or not; "" opens no page."""
    if not isinstance(page, str):
        raise _Refused(47003, "page invalid")
    if page and page.split("?", 1)[0] not in state.config.miniapp_pages:
        raise _Refused(47003, "page invalid")
    return page


# --- control: the phone, and a look inside -----------------------------------------------------


async def subscribe(request: web.Request) -> web.Response:
    """{"user", "template_ids": [1-3 ids], "decision": "accept" | "reject", "appid"?} ->
    {"results": {template_id: "accept" | "reject" | "filter"}}: what wx.requestSubscribeMessage
    answers when the user taps. A template the mini-program did not add is filtered out."""
    usage = '{"user": "alice", "template_ids": ["..."], "decision": "accept"}'
    state, body, appid = await _read(request, usage)
    if official_account(state, appid) is not None:
        raise _BadInput("公众号没有小程序订阅消息，appid 应为小程序的")
    user = _user(body, usage)
    ids, decision = body.get("template_ids"), body.get("decision")
    if (
        not isinstance(ids, list)
        or not 1 <= len(ids) <= MAX_TEMPLATES_PER_REQUEST
        or not all(isinstance(i, str) and i for i in ids)
    ):
        raise _BadInput(f"template_ids 应为 1–{MAX_TEMPLATES_PER_REQUEST} 个模板 id 的列表")
    if len(set(ids)) != len(ids):
        raise _BadInput("template_ids 不能重复")
    if decision not in DECISIONS:
        raise _BadInput(f"decision 应为 {' 或 '.join(DECISIONS)}")
    openid = state.openid(appid, user)
    results = {}
    for template_id in ids:
        if template_id not in state.config.subscribe_templates:
            results[template_id] = "filter"
            continue
        results[template_id] = decision
        if decision == "accept":
            state.subscribe.accepted[(appid, openid, template_id)] += 1
    return web.json_response({"results": results})


async def messages(request: web.Request) -> web.Response:
    """?user=alice[&appid=] -> {"messages": [{"msgid", "touser", "template_id", "page", "data":
    {key: value}, "miniprogram_state", "at"}], "accepted": {template_id: acceptances left}}:
    the user's (without user: everyone's, and the acceptances left of them all)."""
    state = request.app[STATE]
    appid = request.query.get("appid", next(iter(state.config.apps)))
    if appid not in state.config.apps:
        raise _BadInput("未知的 appid")
    name = request.query.get("user")
    openid = state.openid(appid, _user({"user": name}, "?user=alice")) if name is not None else None
    accepted = dict.fromkeys(state.config.subscribe_templates, 0)
    for (app, touser, template_id), left in state.subscribe.accepted.items():
        if app == appid and openid in (None, touser) and template_id in accepted:
            accepted[template_id] += left
    return web.json_response(
        {
            "messages": [
                {
                    "msgid": m.msgid,
                    "touser": m.touser,
                    "template_id": m.template_id,
                    "page": m.page,
                    "data": m.data,
                    "miniprogram_state": m.miniprogram_state,
                    "at": m.at.isoformat(),
                }
                for m in state.subscribe.messages
                if m.appid == appid and openid in (None, m.touser)
            ],
            "accepted": accepted,
        }
    )
