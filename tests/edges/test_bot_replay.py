"""A signed query read from a log or a request cannot carry other words: the query signature
covers no body, so with an EncodingAESKey only safe-mode pushes count, and a query is bound to
the first body it came with (its identical repeat is WeChat's retry: the same answer, once)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp.test_utils import TestServer

from commerce.support.models import Conversation, ConversationMessage
from commerce.users.models import Follower, FollowerTouch
from shop.app import CORE, create_app
from shop.observability import AccessLogger
from tests.builders import new_follower, openid_of
from tests.conftest import TEST_REDIS_URL
from tests.edges import mp_pushes as mp
from tests.edges.mp_pushes import event_xml, text_xml
from tests.edges.paying import sim
from tests.factories import seed_small_catalog


@pytest.fixture
def settings(settings, request):
    """Parametrized indirectly with an EncodingAESKey: "" is none (plaintext mode)."""
    key = getattr(request, "param", None)
    return settings if key is None else settings.model_copy(update={"wechat_mp_aes_key": key})


PLAINTEXT = pytest.mark.parametrize("settings", [""], ids=["no EncodingAESKey"], indirect=True)


@pytest.fixture
async def webhook(client, simulator):
    await seed_small_catalog()
    return client


async def _post(client, query: dict, body: str):
    response = await client.post("/wechat/mp", params=query, data=body.encode())
    return response.status, await response.text()


async def _everything(simulator) -> dict:
    """Every place a push could leave a trace: conversations and their messages, followers and
    their touches, and what the simulator's followers received."""
    _, state = await sim(simulator, "GET", "/mp/state")
    return {
        "conversations": await Conversation.all().order_by("id").values(),
        "messages": await ConversationMessage.all().order_by("id").values(),
        "followers": await Follower.all().order_by("id").values(),
        "touches": await FollowerTouch.all().order_by("id").values(),
        "simulator": {
            appid: {"followers": account["followers"], "custom_sent": account["custom_sent"]}
            for appid, account in state["accounts"].items()
        },
    }


@PLAINTEXT
async def test_a_replayed_query_with_another_body_as_another_follower_is_refused(webhook, simulator):
    # given bob follows; alice says hello, and the query of her push is read from a log
    settings = webhook.app[CORE].settings
    bob = await new_follower(simulator, "bob")
    alice = await openid_of(simulator, "alice")
    query, body = mp.plaintext(settings, text_xml(alice, "你好"))
    assert (await _post(webhook, query, body))[0] == 200
    before = await _everything(simulator)
    # when someone sends other words with that query, as bob: his orders, a human, an unfollow
    forged = [
        text_xml(bob, "订单"),
        text_xml(bob, "人工"),
        event_xml(bob, "unsubscribe"),
    ]
    answers = [await _post(webhook, query, xml) for xml in forged]
    # then each is refused, and nothing changed anywhere
    assert answers == [(403, "forbidden")] * 3
    assert await _everything(simulator) == before
    assert (await Follower.get(openid=bob)).subscribed is True


@PLAINTEXT
async def test_a_replayed_verification_query_carries_no_push(webhook, simulator):
    # given WeChat verified the server URL (a signed GET, logged like any request)
    settings = webhook.app[CORE].settings
    bob = await new_follower(simulator, "bob")
    query = mp.signed_query(settings.mp_token)
    response = await webhook.get("/wechat/mp", params={**query, "echostr": "abc123"})
    assert (response.status, await response.text()) == (200, "abc123")
    before = await _everything(simulator)
    # when its query is posted with an unfollow for bob
    answer = await _post(webhook, query, event_xml(bob, "unsubscribe"))
    # then it is refused and bob still follows
    assert answer == (403, "forbidden")
    assert await _everything(simulator) == before


async def test_a_plaintext_push_is_refused_when_an_encodingaeskey_is_configured(webhook, simulator):
    # given the shop has an EncodingAESKey (safe mode); bob follows
    settings = webhook.app[CORE].settings
    assert settings.mp_aes_key
    bob = await new_follower(simulator, "bob")
    before = await _everything(simulator)
    # when a correctly signed plaintext push arrives: a hand-off, an unfollow
    answers = [
        await _post(webhook, *mp.plaintext(settings, text_xml(bob, "人工"))),
        await _post(webhook, *mp.plaintext(settings, event_xml(bob, "unsubscribe"))),
    ]
    # then both are refused, and nothing changed
    assert answers == [(403, "forbidden")] * 2
    assert await _everything(simulator) == before


async def test_compatible_mode_reads_only_the_encrypted_half(webhook, simulator):
    # given WeChat in compatible mode: the plaintext elements beside <Encrypt>
    settings = webhook.app[CORE].settings
    bob = await new_follower(simulator, "bob")
    alice = await openid_of(simulator, "alice")
    query, body = mp.compatible_mode(settings, text_xml(alice, "蓝牙耳机"))
    # when the plaintext half is changed to bob asking for a human, before it reaches us
    forged = body.replace(alice, bob).replace("蓝牙耳机", "人工")
    status, text = await _post(webhook, query, forged)
    # then the encrypted words count: alice's search is answered, to alice
    assert status == 200
    reply = mp.read_reply(settings, text, query)
    assert reply["ToUserName"] == alice and "蓝牙耳机" in reply["Content"]
    assert await Conversation.all().count() == 0
    # and the genuine body with the same query is then another body: refused
    assert (await _post(webhook, query, body))[0] == 403


async def test_compatible_mode_pushes_from_the_simulator_are_answered(webhook, simulator):
    status, result = await sim(
        simulator, "POST", "/mp/send", {"user": "alice", "content": "蓝牙耳机", "mode": "compatible"}
    )
    assert (status, result["status"], result["error"]) == (200, 200, None), result
    assert "蓝牙耳机" in result["reply"]["Content"]


@pytest.mark.parametrize("settings", ["", None], ids=["plaintext", "safe mode"], indirect=True)
async def test_an_identical_repeat_is_wechats_retry_answered_the_same_and_handled_once(webhook, simulator):
    # given a follower's push asking for a human
    settings = webhook.app[CORE].settings
    alice = await openid_of(simulator, "alice")
    query, body = mp.push_of(settings, text_xml(alice, "人工"))
    # when WeChat sends exactly the same request again, once after the answer and twice together
    first = await _post(webhook, query, body)
    repeats = [
        await _post(webhook, query, body),
        *await asyncio.gather(*(_post(webhook, query, body) for _ in range(2))),
    ]
    # then every arrival gets the same reply
    assert first[0] == 200
    replies = [mp.read_reply(settings, text, query) for _, text in [first, *repeats]]
    assert all(status == 200 for status, _ in repeats)
    assert len({(r["ToUserName"], r["MsgType"], r["Content"]) for r in replies}) == 1
    assert "人工客服" in replies[0]["Content"]
    # and it was handled once: one conversation holding the message once
    assert await Conversation.all().count() == 1
    assert await ConversationMessage.filter(direction="in").count() == 1


@PLAINTEXT
async def test_access_logs_show_no_signed_query_nor_openid(
    aiohttp_client, wired_settings, app_port, empty_database, empty_redis, simulator, caplog
):
    # given the app served with the access log `shop serve` uses
    server = TestServer(create_app(wired_settings, mount_simulator=False), port=app_port)
    await server.start_server(access_log_class=AccessLogger)
    client = await aiohttp_client(server)
    alice = await openid_of(simulator, "alice")
    query = {**mp.signed_query(wired_settings.mp_token), "openid": alice}
    body = text_xml(alice, "你好")
    encrypted = {"encrypt_type": "aes", "msg_signature": "a" * 40}
    # when WeChat pushes (plaintext, then a safe-mode query, then names spelt in percent-escapes)
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        assert (await _post(client, query, body))[0] == 200
        await _post(client, {**mp.signed_query(wired_settings.mp_token), **encrypted}, body)
        escaped = f"/wechat/mp?%73ignature=sig0000&n%6Fnce=nonce0000&%6Fpenid={alice}"
        await client.post(escaped, data=body.encode())
    # then the access log has the lines, with none of the signed values nor the openid
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 3 and all(line.startswith("POST /wechat/mp?") for line in lines)
    secrets = [
        query["signature"],
        query["nonce"],
        query["timestamp"],
        alice,
        "a" * 40,
        "sig0000",
        "nonce0000",
    ]
    assert not [s for s in secrets if any(s in line for line in lines)]
    assert "encrypt_type=aes" in lines[1]


@PLAINTEXT
@pytest.mark.skipif(
    not TEST_REDIS_URL, reason="two processes share only a real Redis (the embedded one is per process)"
)
async def test_a_query_answered_by_one_process_is_refused_with_another_body_by_another(
    webhook, simulator, aiohttp_client, wired_settings
):
    # given a second serving process of the same shop (its own app and core, the same Redis)
    settings = webhook.app[CORE].settings
    other = await aiohttp_client(create_app(wired_settings, mount_simulator=False))
    bob = await new_follower(simulator, "bob")
    alice = await openid_of(simulator, "alice")
    query, body = mp.plaintext(settings, text_xml(alice, "你好"))
    assert (await _post(webhook, query, body))[0] == 200
    before = await _everything(simulator)
    # when the query is sent to the other process with bob's unfollow, and then as it was
    forged = await _post(other, query, event_xml(bob, "unsubscribe"))
    retried = await _post(other, query, body)
    # then the forgery is refused there too, and the genuine retry is answered
    assert forged == (403, "forbidden") and retried[0] == 200
    assert await _everything(simulator) == before
