"""The official-account webhook through the real app: WeChat's protocol exactly (signatures,
safe mode, replays, repeats) and the webhook assistant behind it."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import unquote

import pytest

from bot.keys import MP
from commerce.catalog.models import Sku
from commerce.errors import CommerceError
from commerce.support import conversations as support
from commerce.support.faq import seed_starter_faq
from commerce.support.models import Conversation, ConversationMessage
from commerce.support.queries import read_conversation
from commerce.users.models import Follower, FollowerTouch, TemplateReport
from commerce.wechat.official_account import create_scene_qrcode, load_menu, push_menu
from shop.app import BOT, CORE
from shop.cli import MENU_FILE
from tests.edges import mp_pushes as mp
from tests.edges.mp_pushes import event_xml, message_xml, push, text_xml
from tests.edges.paying import sim
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import seed_small_catalog

OPENID = "oFollower000000000000000001"


@pytest.fixture
async def webhook(client, simulator):
    await seed_small_catalog()
    await seed_starter_faq()
    return client


@pytest.fixture
def settings(settings, request):
    """The shop's settings; parametrized indirectly with an EncodingAESKey ("" for none: the
    account in plaintext mode)."""
    key = getattr(request, "param", None)
    return settings if key is None else settings.model_copy(update={"wechat_mp_aes_key": key})


def _settings(client):
    return client.app[CORE].settings


async def test_wechat_verifies_the_server_url(client):
    settings = _settings(client)
    query = {**mp.signed_query(settings.mp_token), "echostr": "1234567890abc"}
    response = await client.get("/wechat/mp", params=query)
    assert (response.status, await response.text()) == (200, "1234567890abc")
    forged = {**query, "signature": "0" * 40}
    assert (await client.get("/wechat/mp", params=forged)).status == 403
    stale = {**mp.signed_query(settings.mp_token, timestamp=int(time.time()) - 600), "echostr": "x"}
    assert (await client.get("/wechat/mp", params=stale)).status == 403


@pytest.mark.parametrize("settings", ["", None], ids=["plaintext", "safe mode"], indirect=True)
async def test_free_text_is_a_product_search_with_mini_program_links(webhook):
    settings = _settings(webhook)
    status, reply, _ = await push(webhook, settings, text_xml(OPENID, "蓝牙耳机"))
    assert status == 200
    assert reply["MsgType"] == "text" and reply["ToUserName"] == OPENID
    assert "华为 FreeBuds 蓝牙耳机" in reply["Content"] and "¥799.00" in reply["Content"]
    assert f'data-miniprogram-appid="{settings.miniapp_appid}"' in reply["Content"]
    assert 'data-miniprogram-path="pages/product/detail?id=' in reply["Content"]
    # "搜 xxx" and "找 xxx" work too
    _, found, _ = await push(webhook, settings, text_xml(OPENID, "找 耳机"))
    assert "华为 FreeBuds" in found["Content"]


async def test_the_bots_search_understands_pinyin_homophones_and_traditional(webhook):
    settings = _settings(webhook)
    for typed in ("lanyaerji", "耳鸡", "藍牙耳機"):
        status, reply, _ = await push(webhook, settings, text_xml(OPENID, typed))
        assert status == 200
        assert "华为 FreeBuds 蓝牙耳机" in reply["Content"] and "¥799.00" in reply["Content"], typed


async def test_forged_tampered_and_replayed_pushes_are_refused(webhook):
    settings = _settings(webhook)
    xml = text_xml(OPENID, "人工")
    now = int(time.time())
    # a wrong query signature, a stale timestamp (replay), a body encrypted for another app,
    # an encrypted body altered after signing
    query, body = mp.safe_mode(settings, xml)
    cases = {
        "forged": ({**query, "signature": "f" * 40}, body),
        "replayed": mp.safe_mode(settings, xml, timestamp=now - 301),
        "future": mp.safe_mode(settings, xml, timestamp=now + 301),
        "other app": mp.safe_mode(settings, xml, appid="wx0000000000000000"),
    }
    safe_query, safe_body = mp.safe_mode(settings, xml)
    cases["tampered"] = (safe_query, safe_body.replace("<Encrypt><![CDATA[", "<Encrypt><![CDATA[A"))
    cases["bad msg_signature"] = ({**safe_query, "msg_signature": "0" * 40}, safe_body)
    cases["not xml"] = (mp.signed_query(settings.mp_token), "hello")
    for case, (q, b) in cases.items():
        response = await webhook.post("/wechat/mp", params=q, data=b.encode())
        assert response.status == 403, case
    # and none of them opened a conversation with an agent
    assert await Conversation.all().count() == 0


async def test_a_repeated_push_is_handled_once(webhook):
    settings = _settings(webhook)
    xml = text_xml(OPENID, "人工", msg_id=987654321)
    # WeChat's three attempts, arriving together
    results = await asyncio.gather(*(push(webhook, settings, xml) for _ in range(3)))
    assert all(status == 200 for status, _, _ in results)
    replies = [reply["Content"] for _, reply, _ in results if reply]
    assert replies and all("人工客服" in text for text in replies)
    # then one conversation, holding the message once
    assert await Conversation.all().count() == 1
    assert await ConversationMessage.filter(direction="in").count() == 1
    # and the same push later still does nothing new
    await push(webhook, settings, xml)
    assert await ConversationMessage.filter(direction="in").count() == 1


async def test_commands_and_the_faq(webhook):
    settings = _settings(webhook)

    async def say(text: str) -> str:
        _, reply, _ = await push(webhook, settings, text_xml(OPENID, text))
        return reply["Content"] if reply else ""

    assert "搜商品" in await say("帮助")
    assert "包邮" in await say("优惠")
    assert "发货" in await say("多久发货")
    assert "退" in await say("怎么退货")
    assert "发票" in await say("能开发票吗")
    assert "小程序" in await say("订单")  # not a shopper yet: log in through the mini-program
    assert "小程序" in await say("售后")  # the same for after-sales
    assert "售后" in await say("帮助")


async def test_two_misses_in_a_row_hand_over_to_a_human(webhook):
    settings = _settings(webhook)
    _, first, _ = await push(webhook, settings, text_xml(OPENID, "火星上的独角兽"))
    assert "没有找到" in first["Content"]
    _, second, _ = await push(webhook, settings, text_xml(OPENID, "紫色的量子冰箱"))
    assert "人工客服" in second["Content"]
    conversation = await Conversation.get(openid=OPENID)
    assert conversation.reason == "faq_miss"
    # then what the follower says goes to the agent, and the bot keeps quiet
    status, reply, text = await push(webhook, settings, text_xml(OPENID, "我的快递丢了"))
    assert (status, reply, text) == (200, None, "success")
    contents = (
        await ConversationMessage.filter(direction="in").order_by("id").values_list("content", flat=True)
    )
    assert contents[-1] == "我的快递丢了"


async def test_follows_scans_and_reports_are_recorded(webhook):
    settings = _settings(webhook)
    status, reply, _ = await push(
        webhook, settings, event_xml(OPENID, "subscribe", key="qrscene_leader:42", Ticket="t1")
    )
    assert status == 200 and "欢迎关注" in reply["Content"]
    follower = await Follower.get(openid=OPENID)
    assert follower.subscribed and follower.first_scene == "leader:42"
    await push(webhook, settings, event_xml(OPENID, "SCAN", key="kol:7", Ticket="t2"))
    touches = await FollowerTouch.filter(openid=OPENID).order_by("id").values_list("kind", "scene")
    assert touches == [("subscribe", "leader:42"), ("scan", "kol:7")]
    await push(
        webhook, settings, event_xml(OPENID, "TEMPLATESENDJOBFINISH", MsgID="200163836", Status="success")
    )
    assert await TemplateReport.filter(msg_id="200163836", status="success").exists()
    status, reply, text = await push(webhook, settings, event_xml(OPENID, "unsubscribe"))
    assert (status, text) == (200, "success")
    assert not (await Follower.get(openid=OPENID)).subscribed


async def test_images_voices_locations_and_links_get_a_sensible_answer(webhook):
    settings = _settings(webhook)
    image = message_xml(OPENID, "image", PicUrl="http://mmbiz.qpic.cn/x", MediaId="m1")
    location = message_xml(
        OPENID, "location", Location_X="22.54", Location_Y="113.95", Scale="15", Label="深圳湾"
    )
    link = message_xml(OPENID, "link", Title="看看", Description="d", Url="https://example.com")
    voice = message_xml(OPENID, "voice", MediaId="v1", Format="amr", Recognition="蓝牙耳机。")
    answers = {}
    for name, xml in {"image": image, "location": location, "link": link, "voice": voice}.items():
        _, reply, _ = await push(webhook, settings, xml)
        answers[name] = reply["Content"]
    assert "图片" in answers["image"] and "深圳湾" in answers["location"] and "链接" in answers["link"]
    assert "华为 FreeBuds" in answers["voice"]  # the recognised words are a search
    assert (await Follower.get(openid=OPENID)).location["label"] == "深圳湾"


async def _sim_send(simulator, **body) -> dict:
    status, answer = await sim(simulator, "POST", "/mp/send", body)
    assert status == 200, answer
    return answer


async def test_an_answer_too_slow_for_wechat_arrives_once_as_a_customer_service_message(webhook, simulator):
    # given answers take longer than WeChat waits (here: no time at all)
    webhook.app[BOT][MP].once.answer_within = 0.0
    # when alice (a real follower, through the simulator) searches
    sent = await _sim_send(simulator, user="alice", type="text", content="蓝牙耳机")
    # then WeChat got "success" at once, and the answer follows as one customer-service message
    assert (sent["status"], sent["reply"]) == (200, None)
    await webhook.app[BOT][MP].once.close()
    _, log = await sim(simulator, "GET", "/mp/messages?user=alice")
    custom = [m for m in log["messages"] if m["direction"] == "custom"]
    assert len(custom) == 1 and "华为 FreeBuds" in custom[0]["body"]["content"]
    # and WeChat repeating the same message changes nothing
    again = await _sim_send(simulator, user="alice", type="text", content="蓝牙耳机", msg_id=sent["msg_id"])
    assert again["reply"] is None
    await webhook.app[BOT][MP].once.close()
    _, log = await sim(simulator, "GET", "/mp/messages?user=alice")
    assert len([m for m in log["messages"] if m["direction"] == "custom"]) == 1


async def test_a_follower_who_shops_in_the_mini_program_sees_their_orders(webhook, simulator):
    # given alice logged in to the mini-program and ordered there
    headers = await auth_headers(webhook, simulator, "alice")
    address = await (await webhook.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
    sku = await Sku.get(sku_code="P2-W")
    body = {"items": [{"sku_id": sku.id, "quantity": 1}], "address_id": address["id"]}
    response = await webhook.post(
        "/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": "bot-order-1"}
    )
    order = await response.json()
    # when she follows the official account and asks for her orders
    await _sim_send(simulator, user="alice", type="event", event="subscribe")
    answer = await _sim_send(simulator, user="alice", type="text", content="订单")
    # then the bot knows her (the same WeChat user, by unionid)
    assert order["order_no"] in answer["reply"]["Content"] and "待付款" in answer["reply"]["Content"]
    logistics = await _sim_send(simulator, user="alice", type="text", content=f"物流 {order['order_no']}")
    assert "待付款" in logistics["reply"]["Content"]
    # and someone else's order number tells a shopper nothing of it
    await auth_headers(webhook, simulator, "bob")
    await _sim_send(simulator, user="bob", type="event", event="subscribe")
    stranger = await _sim_send(simulator, user="bob", type="text", content=f"物流 {order['order_no']}")
    told = stranger["reply"]["Content"]
    assert told == f"没有找到订单 {order['order_no']}，请核对订单号（可回复「订单」查看）。"


async def test_menu_clicks_answer_by_key(webhook, simulator):
    core = webhook.app[CORE]
    await push_menu(load_menu(MENU_FILE, settings=core.settings), mp=core.mp)
    _, state = await sim(simulator, "GET", "/mp/state")
    menu = state["accounts"][core.settings.mp_appid]["menu"]
    assert [b["name"] for b in menu] == ["逛商城", "我的", "服务"]
    await _sim_send(simulator, user="carol", type="event", event="subscribe")
    help_click = await _sim_send(simulator, user="carol", type="event", event="CLICK", event_key="MENU_HELP")
    assert "搜商品" in help_click["reply"]["Content"]
    fruit = await _sim_send(
        simulator, user="carol", type="event", event="CLICK", event_key="MENU_SEARCH_水果"
    )
    assert "赣南脐橙" in fruit["reply"]["Content"]


async def test_scene_qr_codes_are_made_through_wechat(webhook, simulator):
    core = webhook.app[CORE]
    temporary = await create_scene_qrcode(mp=core.mp, scene="leader:42", days=7)
    assert (
        temporary.ticket
        and temporary.expires_at is not None
        and unquote(temporary.image_url).endswith(temporary.ticket)
    )
    permanent = await create_scene_qrcode(mp=core.mp, scene="kol:7")
    assert permanent.expires_at is None
    for scene, days in (("", None), ("x" * 65, None), ("ok", 31)):
        with pytest.raises(CommerceError):
            await create_scene_qrcode(mp=core.mp, scene=scene, days=days)
    # a follow through it comes back with its scene
    await _sim_send(simulator, user="dave", type="event", event="subscribe", scene="leader:42")
    dave = await Follower.get(first_scene="leader:42")
    assert dave.subscribed


async def test_an_agent_answers_through_wechat_within_its_window_only(webhook, simulator):
    core = webhook.app[CORE]
    # given erin asked for a human through the simulator (so WeChat's window is open)
    await _sim_send(simulator, user="erin", type="text", content="人工")
    conversation = await Conversation.get(reason="keyword")
    detail = await read_conversation(conversation_id=conversation.id)
    assert [(m.direction, m.content[:2]) for m in detail.messages] == [("in", "人工"), ("out", "已为")]
    # when an agent replies, erin receives it as a customer-service message
    await support.reply(
        conversation_id=conversation.id, agent_id=3, text="您好，请问有什么可以帮您？", wechat=core.mp
    )
    _, log = await sim(simulator, "GET", "/mp/messages?user=erin")
    assert [m["body"]["content"] for m in log["messages"] if m["direction"] == "custom"] == [
        "您好，请问有什么可以帮您？"
    ]
    # and what erin says next goes to the conversation, not to the bot
    quiet = await _sim_send(simulator, user="erin", type="text", content="我的订单还没到")
    assert quiet["reply"] is None
    # after she unfollows, nothing more is pushed to her
    await _sim_send(simulator, user="erin", type="event", event="unsubscribe")
    with pytest.raises(CommerceError) as refused:
        await support.reply(conversation_id=conversation.id, agent_id=3, text="还在吗？", wechat=core.mp)
    assert refused.value.code == "follower_unsubscribed"


async def test_kinds_the_bot_does_not_read_still_reach_the_agent_and_odd_reports_are_kept(webhook):
    settings = _settings(webhook)
    await push(webhook, settings, text_xml(OPENID, "人工"))
    # when a follower talking to an agent sends a file and a mini-program card (kinds we do not read)
    for kind, fields in (("file", {"Title": "发票.pdf"}), ("miniprogrampage", {"Title": "商品"})):
        status, _, text = await push(webhook, settings, message_xml(OPENID, kind, **fields))
        # then WeChat hears success and the agent sees that something came
        assert (status, text) == (200, "success"), kind
    kinds = await ConversationMessage.filter(direction="in", msg_type="other").count()
    assert kinds == 2
    # and a template-message report without a status is recorded, not an error
    status, _, text = await push(webhook, settings, event_xml(OPENID, "TEMPLATESENDJOBFINISH", MsgID="77"))
    assert (status, text) == (200, "success")
    assert await TemplateReport.filter(msg_id="77", status="").exists()
