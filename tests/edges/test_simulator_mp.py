"""The simulator plays WeChat's official-account side: followers' messages pushed to the webhook
signed (and in safe mode encrypted), tried again when not answered in time, replies read back;
the customer-service windows; the menu and QR code APIs; the chat page."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import xmltodict
from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from wechat_simulator import SimulatorConfig, create_simulator_app
from wechat_simulator.config import OfficialAccount
from wechat_simulator.keys import STATE
from wechat_simulator.pay_keys import SIMULATOR_PAY_MCHID
from wechat_simulator.pay_state import Transaction

MINI, MINI_SECRET = "wxsim0miniapp0001", "sim-miniapp-secret-0000000000001"
MP, MP_SECRET = "wxsim0official001", "sim-official-secret-000000000001"
TOKEN = "simofficialtoken0001"
AES_KEY = "c2ltdWxhdG9yLW9mZmljaWFsLWFjY291bnQtYWVzazE"
CUSTOM = "/cgi-bin/message/custom/send"
TIMEOUT = 0.2  # the simulator waits this long for the webhook (WeChat: 5 s)


class MovableClock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


class Webhook:
    """The shop's /wechat/mp: checks the signature (and decrypts in safe mode) with wechatpy,
    then answers as told: a text reply (encrypted in safe mode), "success", a 500, or late."""

    def __init__(self, clock: MovableClock) -> None:
        self.clock = clock
        self.received: list[dict[str, Any]] = []
        self.answer = "reply"  # "reply", "plain" (never encrypted), "success" or "500"
        self.late = 0  # how many of the next requests are answered after the simulator gave up
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        query, body = request.query, await request.text()
        seen: dict[str, Any] = {"query": dict(query), "body": body}
        self.received.append(seen)
        try:
            check_signature(TOKEN, query["signature"], query["timestamp"], query["nonce"])
        except InvalidSignatureException:
            return self._refuse(seen, "bad signature")
        if abs(self.clock().timestamp() - int(query["timestamp"])) > 300:
            return self._refuse(seen, "stale")
        crypto = WeChatCrypto(TOKEN, AES_KEY, MP)
        safe = query.get("encrypt_type") == "aes"
        try:
            xml = (
                crypto.decrypt_message(body, query["msg_signature"], query["timestamp"], query["nonce"])
                if safe
                else body
            )
        except InvalidSignatureException:
            return self._refuse(seen, "bad msg_signature")
        seen.update(xml=xml, message=xmltodict.parse(xml)["xml"], parsed=parse_message(xml), verdict="ok")
        if self.late:
            self.late -= 1
            await asyncio.sleep(TIMEOUT * 2)
        if self.answer == "500":
            return web.Response(status=500)
        if self.answer == "success":
            return web.Response(text="success")
        message = seen["message"]
        if self.answer == "plain":  # not encrypted, whatever the mode
            return web.Response(
                text=TextReply(source=message["ToUserName"], target=message["FromUserName"]).render()
            )
        said = message.get("Content") or message.get("Event") or message["MsgType"]
        reply = TextReply(
            source=message["ToUserName"], target=message["FromUserName"], content=f"收到：{said}"
        )
        text = reply.render()
        if safe:
            text = crypto.encrypt_message(text, query["nonce"], query["timestamp"])
        return web.Response(text=text, content_type="application/xml")

    @staticmethod
    def _refuse(seen: dict[str, Any], verdict: str) -> web.Response:
        seen["verdict"] = verdict
        return web.Response(status=403, text=verdict)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def webhook(aiohttp_server, clock) -> Webhook:
    hook = Webhook(clock)
    app = web.Application()
    app.router.add_post("/wechat/mp", hook.handle)
    app.router.add_post("/notify", _acknowledge)
    server = await aiohttp_server(app)
    hook.url = str(server.make_url("/wechat/mp"))
    return hook


def _kind(parsed) -> str:
    """What wechatpy makes of a push: the message type, or the event."""
    return parsed.event if parsed.type == "event" else parsed.type


async def _acknowledge(request: web.Request) -> web.Response:
    return web.Response(status=204)


@pytest.fixture
async def sim(aiohttp_client, data_dir, clock, webhook):
    """The simulator as a real server, its official account pushing to the test's webhook."""
    config = SimulatorConfig(
        apps={MINI: MINI_SECRET, MP: MP_SECRET},
        data_dir=data_dir / "simulator",
        pay_merchant_dir=data_dir / "wechatpay",
        now=clock,
        official_accounts=(OfficialAccount(MP, TOKEN, AES_KEY, webhook.url),),
        mp_reply_timeout_seconds=TIMEOUT,
    )
    return await aiohttp_client(create_simulator_app(config))


async def _send(sim, status: int = 200, **body) -> dict:
    response = await sim.post("/mp/send", json={"user": "alice", **body})
    assert response.status == status, await response.text()
    return await response.json()


async def _messages(sim, user: str = "alice") -> dict:
    response = await sim.get("/mp/messages", params={"user": user})
    assert response.status == 200, await response.text()
    return await response.json()


async def _token(sim, appid: str = MP, secret: str = MP_SECRET) -> str:
    body = {"grant_type": "client_credential", "appid": appid, "secret": secret}
    return (await (await sim.post("/cgi-bin/stable_token", json=body)).json())["access_token"]


async def _call(sim, path: str, token: str, body: Any = None, *, raw: bytes | None = None) -> dict:
    data = raw if raw is not None else None
    response = await sim.post(
        path, params={"access_token": token}, json=body if raw is None else None, data=data
    )
    assert response.status == 200
    return await response.json()


async def _custom(sim, token: str, openid: str, text: str = "您的订单已发货") -> int:
    body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
    return (await _call(sim, CUSTOM, token, body))["errcode"]


# --- pushes to the webhook ------------------------------------------------------------------


async def test_a_plaintext_push_is_signed_and_the_reply_is_read_back(sim, webhook, clock):
    result = await _send(sim, content="你好", safe_mode=False)
    assert (result["status"], result["attempts"], result["error"]) == (200, 1, None)
    assert result["reply"]["MsgType"] == "text" and result["reply"]["Content"] == "收到：你好"
    (seen,) = webhook.received
    openid = (await _messages(sim))["openid"]
    assert set(seen["query"]) == {"signature", "timestamp", "nonce", "openid"}
    assert seen["query"]["openid"] == openid and seen["query"]["timestamp"] == str(int(clock().timestamp()))
    message = seen["message"]
    assert message["ToUserName"].startswith("gh_") and len(message["ToUserName"]) == 15
    assert (message["FromUserName"], message["MsgType"], message["Content"]) == (openid, "text", "你好")
    assert message["MsgId"] == str(result["msg_id"]) and result["msg_id"] >= 10**18
    assert message["CreateTime"] == str(int(clock().timestamp()))
    assert seen["parsed"].type == "text" and seen["parsed"].content == "你好"


async def test_a_safe_mode_push_is_encrypted_and_its_encrypted_reply_decrypted(sim, webhook):
    result = await _send(sim, content="在吗")
    (seen,) = webhook.received
    assert seen["query"]["encrypt_type"] == "aes" and seen["query"]["msg_signature"]
    envelope = xmltodict.parse(seen["body"])["xml"]
    assert set(envelope) == {"ToUserName", "Encrypt"} and "在吗" not in seen["body"]
    assert envelope["ToUserName"] == seen["message"]["ToUserName"]
    assert seen["message"]["Content"] == "在吗" and seen["verdict"] == "ok"
    assert result["reply"]["Content"] == "收到：在吗"
    assert "<Content><![CDATA[收到：在吗]]></Content>" in result["raw"]  # decrypted


async def test_a_compatible_mode_push_carries_both_halves_and_either_reply_is_read(sim, webhook):
    result = await _send(sim, content="兼容", mode="compatible")
    (seen,) = webhook.received
    assert seen["query"]["encrypt_type"] == "aes" and seen["query"]["msg_signature"]
    envelope = xmltodict.parse(seen["body"])["xml"]
    assert envelope["Encrypt"] and envelope["Content"] == "兼容" and envelope["MsgType"] == "text"
    assert seen["message"]["Content"] == "兼容" and result["reply"]["Content"] == "收到：兼容"
    webhook.answer = "plain"  # WeChat takes a plaintext reply in compatible mode
    result = await _send(sim, content="明文回复", mode="compatible")
    assert result["error"] is None and result["reply"]["MsgType"] == "text"


async def test_success_or_nothing_means_no_reply(sim, webhook):
    webhook.answer = "success"
    result = await _send(sim, content="hi")
    assert (result["status"], result["reply"], result["raw"], result["error"]) == (200, None, "success", None)
    assert [m["direction"] for m in (await _messages(sim))["messages"]] == ["in"]


@pytest.mark.parametrize(
    ("body", "kind", "fields"),
    [
        ({"type": "image"}, "image", {"MsgType": "image"}),
        ({"type": "voice", "content": "你好"}, "voice", {"Format": "amr", "Recognition": "你好"}),
        (
            {"type": "location", "location": {"x": 23.134521, "y": 113.358803, "label": "广州"}},
            "location",
            {"Location_X": "23.134521", "Location_Y": "113.358803", "Scale": "15", "Label": "广州"},
        ),
        (
            {"type": "link", "link": {"title": "公众平台", "url": "https://mp.weixin.qq.com"}},
            "link",
            {"Title": "公众平台", "Url": "https://mp.weixin.qq.com", "Description": None},
        ),
        ({"type": "event", "event": "CLICK", "event_key": "ORDERS"}, "click", {"EventKey": "ORDERS"}),
        (
            {"type": "event", "event": "VIEW", "event_key": "https://x.cn"},
            "view",
            {"EventKey": "https://x.cn"},
        ),
        ({"type": "event", "event": "subscribe"}, "subscribe", {"Event": "subscribe"}),
        (
            {"type": "event", "event": "TEMPLATESENDJOBFINISH", "msg_id": 200163836},
            "templatesendjobfinish",
            {"MsgID": "200163836", "Status": "success"},
        ),
    ],
)
async def test_each_kind_of_push_is_shaped_like_wechats(sim, webhook, body, kind, fields):
    result = await _send(sim, safe_mode=False, **body)
    seen = webhook.received[-1]
    assert _kind(seen["parsed"]) == kind
    assert {name: seen["message"].get(name) for name in fields} == fields
    assert result["reply"]["MsgType"] == "text"
    if body["type"] == "image":
        assert seen["message"]["PicUrl"].startswith("http://") and seen["message"]["MediaId"]
    if body["type"] == "event" and "MsgID" not in fields:
        assert "MsgId" not in seen["message"] and result["msg_id"] is None


async def test_a_slow_webhook_is_tried_three_times_with_the_same_message(sim, webhook):
    webhook.late = 2
    result = await _send(sim, content="慢")
    assert (result["status"], result["attempts"]) == (200, 3)
    assert result["reply"]["Content"] == "收到：慢"
    assert len(webhook.received) == 3
    assert {seen["message"]["MsgId"] for seen in webhook.received} == {str(result["msg_id"])}
    # an event: the same FromUserName and CreateTime every time
    webhook.late = 3
    result = await _send(sim, type="event", event="CLICK", event_key="K")
    assert (result["status"], result["attempts"], result["reply"]) == (None, 3, None)
    assert result["error"]
    events = [seen["message"] for seen in webhook.received[3:]]
    assert len(events) == 3 and len({(m["FromUserName"], m["CreateTime"]) for m in events}) == 1
    await asyncio.sleep(TIMEOUT * 2)  # the webhook's late answers end


async def test_a_webhook_answering_500_is_tried_three_times(sim, webhook):
    webhook.answer = "500"
    result = await _send(sim, content="hi", msg_id=1234567890123456789)
    assert (result["status"], result["attempts"], result["reply"], result["msg_id"]) == (
        500,
        3,
        None,
        1234567890123456789,
    )
    assert result["error"] == "HTTP 500"


async def test_a_webhook_that_cannot_be_reached_is_tried_three_times(sim, webhook, unused_tcp_port):
    state = sim.server.app[STATE]
    nowhere = f"http://127.0.0.1:{unused_tcp_port}/wechat/mp"
    accounts = (OfficialAccount(MP, TOKEN, AES_KEY, nowhere),)
    state.config = dataclasses.replace(state.config, official_accounts=accounts)
    result = await _send(sim, content="hi")
    assert (result["status"], result["attempts"], result["reply"]) == (None, 3, None)
    assert result["error"] and webhook.received == []


@pytest.mark.parametrize(
    ("tamper", "safe_mode", "verdict"),
    [
        ("signature", False, "bad signature"),
        ("signature", True, "bad signature"),
        ("body", True, "bad msg_signature"),
        ("stale", False, "stale"),
        ("stale", True, "stale"),
    ],
)
async def test_tampered_pushes_fail_the_webhooks_checks(sim, webhook, tamper, safe_mode, verdict):
    result = await _send(sim, content="hi", tamper=tamper, safe_mode=safe_mode)
    assert (result["status"], result["attempts"]) == (403, 3)
    assert {seen["verdict"] for seen in webhook.received} == {verdict}


async def test_in_plaintext_mode_an_altered_body_goes_unnoticed(sim, webhook):
    await _send(sim, content="付款 1 元", tamper="body", safe_mode=False)
    assert webhook.received[0]["verdict"] == "ok"
    assert webhook.received[0]["message"]["Content"] == "付款 1 元[tampered]"


async def test_a_reply_in_plaintext_to_a_safe_mode_push_is_refused(sim, webhook):
    webhook.answer = "plain"
    result = await _send(sim, content="hi")
    assert result["status"] == 200 and result["reply"] is None and result["error"]


# --- customer-service messages ----------------------------------------------------------------


async def test_five_messages_within_48_hours_of_the_followers_message(sim, clock):
    await _send(sim, content="我的订单呢")
    token, openid = await _token(sim), (await _messages(sim))["openid"]
    assert [await _custom(sim, token, openid) for _ in range(6)] == [0, 0, 0, 0, 0, 45047]
    clock.advance(hours=47, minutes=59)
    token = await _token(sim)  # the old one expired meanwhile
    assert await _custom(sim, token, openid) == 45047
    await _send(sim, content="还在吗")  # a new message: five more
    assert [await _custom(sim, token, openid) for _ in range(5)] == [0] * 5
    assert (await _messages(sim))["window"]["remaining"] == 0
    clock.advance(hours=48)
    assert await _custom(sim, await _token(sim), openid) == 45015
    assert (await _messages(sim))["window"] == {"open": False, "remaining": 0, "windows": []}


async def test_three_messages_within_a_minute_of_subscribing_or_a_click(sim, clock):
    await _send(sim, type="event", event="subscribe")
    token, openid = await _token(sim), (await _messages(sim))["openid"]
    assert [await _custom(sim, token, openid) for _ in range(4)] == [0, 0, 0, 45047]
    clock.advance(seconds=61)
    assert await _custom(sim, token, openid) == 45015
    await _send(sim, type="event", event="CLICK", event_key="HELP")
    clock.advance(seconds=59)
    window = (await _messages(sim))["window"]
    assert window["open"] and window["remaining"] == 3 and window["windows"][0]["kind"] == "event"
    assert await _custom(sim, token, openid) == 0


async def test_no_limit_within_48_hours_of_a_payment(sim, clock, webhook):
    # alice logs in to the mini-program and pays there; she never wrote to the official account
    mini_openid = (await (await sim.post("/wx/login-code", json={"user": "alice"})).json())["openid"]
    pay = sim.server.app[STATE].pay
    notify = webhook.url.replace("/wechat/mp", "/notify")
    tx = Transaction(
        MINI, SIMULATOR_PAY_MCHID, "ORDER0001", "耳机", notify, 100, mini_openid, "", None, clock()
    )
    pay.transactions[tx.out_trade_no] = tx
    prepay = pay.new_prepay(tx, clock())
    assert (await sim.post("/pay/confirm", json={"prepay_id": prepay.prepay_id})).status == 200
    token, openid = await _token(sim), (await _messages(sim))["openid"]
    assert [await _custom(sim, token, openid) for _ in range(20)] == [0] * 20
    assert (await _messages(sim))["window"]["remaining"] is None
    clock.advance(hours=47, minutes=59)
    assert await _custom(sim, await _token(sim), openid) == 0
    clock.advance(minutes=1)
    assert await _custom(sim, await _token(sim), openid) == 45015


async def test_unsubscribed_unknown_and_malformed_followers_are_refused(sim):
    await _send(sim, content="hi")
    await _send(sim, type="event", event="unsubscribe")
    token, openid = await _token(sim), (await _messages(sim))["openid"]
    assert await _custom(sim, token, openid) == 45015
    assert await _custom(sim, token, (await _messages(sim, "bob"))["openid"]) == 45015  # never wrote
    assert await _custom(sim, token, "not-an-openid") == 40003
    mini_openid = (await (await sim.post("/wx/login-code", json={"user": "alice"})).json())["openid"]
    assert await _custom(sim, token, mini_openid) == 40003  # her openid in the mini-program
    # an unsubscribed follower cannot write; subscribing again opens a new window
    assert "error" in await _send(sim, 400, content="hi")
    await _send(sim, type="event", event="subscribe")
    assert await _custom(sim, token, openid) == 0


async def test_user_info_tells_who_follows(sim):
    token = await _token(sim)
    mini_openid = (await (await sim.post("/wx/login-code", json={"user": "alice"})).json())["openid"]
    await _send(sim, type="event", event="subscribe")
    openid = (await _messages(sim))["openid"]

    async def info(openid: str) -> dict:
        return await (
            await sim.get("/cgi-bin/user/info", params={"access_token": token, "openid": openid})
        ).json()

    alice = await info(openid)
    assert (alice["subscribe"], alice["openid"], alice["subscribe_scene"]) == (1, openid, "ADD_SCENE_SEARCH")
    assert (await info(mini_openid))["errcode"] == 40003  # an openid of another app
    assert (await info("nonsense"))["errcode"] == 40003
    await _send(sim, type="event", event="unsubscribe")
    gone = await info(openid)
    assert gone == {"subscribe": 0, "openid": openid, "unionid": alice["unionid"]}


async def test_customer_service_messages_need_a_valid_official_account_token(sim, clock):
    await _send(sim, content="hi")
    openid = (await _messages(sim))["openid"]
    assert await _custom(sim, "made-up", openid) == 40001
    assert await _custom(sim, await _token(sim, MINI, MINI_SECRET), openid) == 48001
    token = await _token(sim)
    clock.advance(hours=2)
    assert await _custom(sim, token, openid) == 42001
    missing = await (await sim.post(CUSTOM, json={"touser": openid})).json()
    assert missing["errcode"] == 41001


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        (b"", 44002),
        (b"not json", 47001),
        (b"[1]", 47001),
        ({"touser": "OPENID", "msgtype": "voice", "voice": {"media_id": "m"}}, 40008),
        ({"touser": "OPENID", "msgtype": "text", "text": {"content": ""}}, 44004),
        ({"touser": "OPENID", "msgtype": "text", "text": "hi"}, 47001),
        ({"touser": "OPENID", "msgtype": "text", "text": {"content": "长" * 2049}}, 45002),
        ({"touser": "OPENID", "msgtype": "news", "news": {"articles": []}}, 44003),
        ({"touser": "OPENID", "msgtype": "news", "news": {"articles": [{"title": "t"}] * 9}}, 45008),
        ({"touser": "OPENID", "msgtype": "image", "image": {}}, 40007),
        (
            {
                "touser": "OPENID",
                "msgtype": "miniprogrampage",
                "miniprogrampage": {"title": "t", "appid": MINI},
            },
            47001,
        ),
        ({"touser": 7, "msgtype": "text", "text": {"content": "hi"}}, 40003),
    ],
)
async def test_bad_customer_service_messages_are_refused(sim, body, errcode):
    await _send(sim, content="hi")
    token, openid = await _token(sim), (await _messages(sim))["openid"]
    if isinstance(body, bytes):
        answer = await _call(sim, CUSTOM, token, raw=body)
    else:
        answer = await _call(
            sim, CUSTOM, token, {**body, "touser": openid if body["touser"] == "OPENID" else 7}
        )
    assert answer["errcode"] == errcode, answer


async def test_news_links_and_mini_program_cards_are_sent_and_recorded(sim):
    await _send(sim, content="推荐点什么")
    token, openid = await _token(sim), (await _messages(sim))["openid"]
    bodies = [
        {
            "msgtype": "news",
            "news": {"articles": [{"title": "新品", "url": "https://x.cn", "picurl": "https://x.cn/p"}]},
        },
        {
            "msgtype": "miniprogrampage",
            "miniprogrampage": {"title": "耳机", "appid": MINI, "pagepath": "pages/a"},
        },
        {"msgtype": "link", "link": {"title": "t", "description": "d", "url": "https://x.cn"}},
    ]
    for body in bodies:
        assert (await _call(sim, CUSTOM, token, {"touser": openid, **body}))["errcode"] == 0
    customs = [m for m in (await _messages(sim))["messages"] if m["direction"] == "custom"]
    assert [m["msgtype"] for m in customs] == ["news", "miniprogrampage", "link"]
    assert customs[0]["body"]["articles"][0]["title"] == "新品"


# --- the menu ---------------------------------------------------------------------------------

CLICK = {"type": "click", "name": "我的订单", "key": "ORDERS"}
VIEW = {"type": "view", "name": "商城", "url": "https://shop.example.cn"}
MINIPROGRAM = {
    "type": "miniprogram",
    "name": "小程序",
    "url": "https://x.cn",
    "appid": MINI,
    "pagepath": "pages/i",
}


@pytest.mark.parametrize(
    ("buttons", "errcode"),
    [
        ([], 40016),
        ([CLICK] * 4, 40016),
        ("nope", 40016),
        ([{"type": "tap", "name": "x", "key": "k"}], 40017),
        ([{**CLICK, "name": ""}], 40018),
        ([{**CLICK, "name": "六个汉字太长"}], 40018),  # 16 bytes at most: 6 characters are 18
        ([{**CLICK, "key": "k" * 129}], 40019),
        ([{**CLICK, "key": ""}], 40019),
        ([{"type": "view", "name": "x"}], 40020),
        ([{"name": "更多", "sub_button": [CLICK] * 6}], 40023),
        ([{"name": "更多", "sub_button": [{"type": "tap", "name": "x"}]}], 40024),
        ([{"name": "更多", "sub_button": [{**CLICK, "name": "名" * 21}]}], 40025),
        ([{"name": "更多", "sub_button": [{**CLICK, "key": "k" * 129}]}], 40026),
        ([{"name": "更多", "sub_button": [{"type": "view", "name": "x"}]}], 40027),
        ([{"name": "更多", "sub_button": [{"name": "x", "sub_button": [CLICK]}]}], 40022),
        ([{**MINIPROGRAM, "pagepath": ""}], 40097),
    ],
)
async def test_bad_menus_are_refused_like_wechat(sim, buttons, errcode):
    answer = await _call(sim, "/cgi-bin/menu/create", await _token(sim), {"button": buttons})
    assert answer["errcode"] == errcode, answer


async def test_a_menu_is_stored_shown_and_its_keys_are_the_clicks_possible(sim):
    token = await _token(sim)
    buttons = [
        CLICK,
        {"name": "更多", "sub_button": [VIEW, MINIPROGRAM, {**CLICK, "key": "HELP", "name": "帮助"}]},
    ]
    assert (await _call(sim, "/cgi-bin/menu/create", token, {"button": buttons})) == {
        "errcode": 0,
        "errmsg": "ok",
    }
    response = await sim.get("/cgi-bin/get_current_selfmenu_info", params={"access_token": token})
    info = await response.json()
    assert info["is_menu_open"] == 1
    assert info["selfmenu_info"]["button"][1]["sub_button"]["list"][0] == VIEW
    assert (await (await sim.get("/mp/state")).json())["accounts"][MP]["menu"] == buttons
    # the follower can click what the menu has, nothing else
    await _send(sim, type="event", event="CLICK", event_key="HELP")
    assert "error" in await _send(sim, 400, type="event", event="CLICK", event_key="NOPE")
    await _send(sim, type="event", event="VIEW", event_key=VIEW["url"])
    # a mini-program's token may not set an official account's menu
    mini = await _token(sim, MINI, MINI_SECRET)
    assert (await _call(sim, "/cgi-bin/menu/create", mini, {"button": [CLICK]}))["errcode"] == 48001
    deleted = await (await sim.get("/cgi-bin/menu/delete", params={"access_token": token})).json()
    assert deleted["errcode"] == 0
    info = await (await sim.get("/cgi-bin/get_current_selfmenu_info", params={"access_token": token})).json()
    assert info["is_menu_open"] == 0


# --- parametric QR codes ----------------------------------------------------------------------

QRCODE = "/cgi-bin/qrcode/create"


async def test_temporary_and_permanent_qr_codes(sim):
    token = await _token(sim)
    default = await _call(
        sim, QRCODE, token, {"action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 7}}}
    )
    assert default["expire_seconds"] == 30 and default["ticket"]
    assert default["url"].startswith("http://weixin.qq.com/q/")
    longest = await _call(
        sim,
        QRCODE,
        token,
        {
            "expire_seconds": 9_999_999,
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": "s"}},
        },
    )
    assert longest["expire_seconds"] == 2_592_000
    permanent = await _call(
        sim,
        QRCODE,
        token,
        {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "poster"}}},
    )
    assert "expire_seconds" not in permanent and permanent["ticket"] != default["ticket"]
    state = await (await sim.get("/mp/state")).json()
    assert {q["scene"] for q in state["accounts"][MP]["qrcodes"]} == {7, "s", "poster"}


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": ""}}}, 40097),
        ({"action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": "s" * 65}}}, 40097),
        ({"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 100_001}}}, 40097),
        ({"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 0}}}, 40097),
        ({"action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": "7"}}}, 40053),
        ({"action_name": "QR_SCENE", "action_info": {"scene": {"scene_str": "s"}}}, 40053),
        ({"action_name": "QR_SCENE"}, 40053),
        ({"action_name": "QR_SCENE", "expire_seconds": 0, "action_info": {"scene": {"scene_id": 1}}}, 40097),
        ({"action_name": "QR_FOREVER", "action_info": {"scene": {"scene_id": 1}}}, 40097),
    ],
)
async def test_bad_qr_codes_are_refused(sim, body, errcode):
    assert (await _call(sim, QRCODE, await _token(sim), body))["errcode"] == errcode


async def test_scanning_a_qr_code_subscribes_then_scans(sim, webhook, clock):
    token = await _token(sim)
    body = {"action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": "invite_bob"}}}
    ticket = (await _call(sim, QRCODE, token, body))["ticket"]
    await _send(sim, type="event", event="subscribe", scene="invite_bob", safe_mode=False)
    first = webhook.received[-1]
    assert _kind(first["parsed"]) == "subscribe_scan"
    assert (first["message"]["EventKey"], first["message"]["Ticket"]) == ("qrscene_invite_bob", ticket)
    await _send(sim, type="event", event="subscribe", scene="invite_bob")  # a follower scanning: SCAN
    again = webhook.received[-1]
    assert (again["message"]["Event"], again["message"]["EventKey"]) == ("SCAN", "invite_bob")
    assert _kind(again["parsed"]) == "scan"
    assert "error" in await _send(sim, 400, type="event", event="subscribe")  # already following
    openid = (await _messages(sim))["openid"]
    info = await (
        await sim.get("/cgi-bin/user/info", params={"access_token": token, "openid": openid})
    ).json()
    assert (info["subscribe"], info["qr_scene_str"], info["subscribe_scene"]) == (
        1,
        "invite_bob",
        "ADD_SCENE_QR_CODE",
    )
    assert info["subscribe_time"] == int(clock().timestamp()) and info["unionid"].startswith("o")
    clock.advance(seconds=30)
    assert "error" in await _send(sim, 400, type="event", event="SCAN", scene="invite_bob")  # expired
    assert "error" in await _send(sim, 400, type="event", event="SCAN", ticket="made-up")


# --- control, state and the chat page ---------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"user": ""},
        {"user": "a b", "content": "x"},
        {"user": "alice", "appid": "wx-unknown", "content": "x"},
        {"user": "alice", "type": "video"},
        {"user": "alice", "content": ""},
        {"user": "alice", "content": 7},
        {"user": "alice", "type": "event", "event": "LOCATION"},
        {"user": "alice", "type": "event", "event": "CLICK"},
        {"user": "alice", "type": "event", "event": "SCAN"},
        {"user": "alice", "type": "location", "location": {"x": "north"}},
        {"user": "alice", "type": "link", "link": {"title": "t"}},
        {"user": "alice", "content": "x", "tamper": "everything"},
        {"user": "alice", "content": "x", "safe_mode": "yes"},
        {"user": "alice", "content": "x", "msg_id": 0},
        {"user": "alice", "content": "x", "create_time": "now"},
    ],
)
async def test_mp_send_refuses_bad_input_with_400(sim, webhook, body):
    response = await sim.post("/mp/send", json=body)
    assert response.status == 400
    assert (await response.json())["error"]
    assert webhook.received == []


async def test_messages_show_everything_exchanged_in_order(sim):
    result = await _send(sim, content="你好")
    token, openid = await _token(sim), (await _messages(sim))["openid"]
    assert await _custom(sim, token, openid, "稍后为您查询") == 0
    seen = await _messages(sim)
    assert seen["subscribed"] is True
    assert [(m["direction"], m["msgtype"]) for m in seen["messages"]] == [
        ("in", "text"),
        ("reply", "text"),
        ("custom", "text"),
    ]
    incoming, reply, custom = seen["messages"]
    assert incoming["body"]["Content"] == "你好" and incoming["body"]["MsgId"] == result["msg_id"]
    assert reply["body"]["Content"] == "收到：你好" and custom["body"] == {"content": "稍后为您查询"}
    assert seen["window"]["remaining"] == 4 and seen["window"]["windows"][0]["kind"] == "message"
    state = await (await sim.get("/mp/state")).json()
    follower = state["accounts"][MP]["followers"][openid]
    assert (follower["user"], follower["subscribed"], follower["custom_sent"]) == ("alice", True, 1)
    wx = await (await sim.get("/wx/state")).json()
    assert wx["calls"]["custom_send"] == 1 and wx["mp"]["custom_messages"] == 1


async def test_faults_can_be_planned_for_customer_service_messages(sim):
    await _send(sim, content="hi")
    token, openid = await _token(sim), (await _messages(sim))["openid"]
    assert (await sim.post("/wx/faults", json={"api": "custom_send", "errcode": 45009})).status == 200
    assert await _custom(sim, token, openid) == 45009
    assert await _custom(sim, token, openid) == 0


async def test_the_chat_page_is_served(sim):
    response = await sim.get("/chat")
    assert response.status == 200 and response.content_type == "text/html"
    page = await response.text()
    assert "<form" in page and 'fetch("mp/send"' in page and "mp/messages?user=" in page
    assert "innerHTML" not in page and "http://" not in page and "https://" not in page
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
