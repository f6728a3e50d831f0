"""Subscribe messages (订阅消息) through our WeChat client against the simulator server: each
acceptance on the phone lets us send one message of that template; WeChat's refusals typed."""

import dataclasses

import pytest
from aiohttp import ClientSession

from commerce.cache import create_redis
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import NotSubscribed, WeChatBusy, WeChatError
from shop.app import simulator_config
from wechat_simulator import SimulatorConfig
from wechat_simulator.app import create_simulator_app

GROUP = "tmpl-group-result"
SHIPPED = "tmpl-order-shipped"
TEMPLATES = {
    GROUP: ("thing1", "phrase2", "time3"),
    SHIPPED: ("character_string1", "thing2", "amount3"),
}
GROUP_DATA = {"thing1": "云南高山蓝莓 2 盒", "phrase2": "拼团成功", "time3": "2026-12-07 18:00"}
PAGE = "pages/group/index?id=7"


@pytest.fixture
async def simulator_server(aiohttp_server, settings):
    config = dataclasses.replace(simulator_config(settings), subscribe_templates=TEMPLATES)
    return await aiohttp_server(create_simulator_app(config))


@pytest.fixture
async def wechat(simulator_server, settings, empty_redis):
    """Our mini-program's client, talking to that simulator."""
    redis = create_redis(settings)
    base = str(simulator_server.make_url("")).rstrip("/")
    client = WeChatClient(settings=settings.model_copy(update={"wechat_api_base": base}), redis=redis)
    yield client
    await client.close()
    await redis.aclose()


async def _sim(server, method: str, path: str, body: dict | None = None, *, status: int = 200) -> dict:
    async with (
        ClientSession() as http,
        http.request(method, server.make_url(path), json=body) as response,
    ):
        assert response.status == status, await response.text()
        return await response.json()


async def _openid(server, user: str = "alice", **appid: str) -> str:
    return (await _sim(server, "POST", "/wx/login-code", {"user": user, **appid}))["openid"]


async def _tap(server, decision: str, *template_ids: str, user: str = "alice") -> dict:
    """The user answers wx.requestSubscribeMessage on the phone."""
    body = {"user": user, "template_ids": list(template_ids), "decision": decision}
    return (await _sim(server, "POST", "/wx/subscribe", body))["results"]


async def test_each_acceptance_allows_one_message(simulator_server, wechat):
    openid = await _openid(simulator_server)
    # given alice accepted the group-result template twice
    assert await _tap(simulator_server, "accept", GROUP) == {GROUP: "accept"}
    assert await _tap(simulator_server, "accept", GROUP, SHIPPED) == {GROUP: "accept", SHIPPED: "accept"}
    # when we send her two messages of it, then a third
    await wechat.send_subscribe_message(openid, GROUP, GROUP_DATA, page=PAGE)
    await wechat.send_subscribe_message(openid, GROUP, GROUP_DATA, page=PAGE)
    with pytest.raises(NotSubscribed) as refused:
        await wechat.send_subscribe_message(openid, GROUP, GROUP_DATA, page=PAGE)
    # then the third is refused, and the other template's acceptance is still there
    assert refused.value.errcode == 43101
    seen = await _sim(simulator_server, "GET", "/wx/subscribe-messages?user=alice")
    assert seen["accepted"] == {GROUP: 0, SHIPPED: 1}
    assert len(seen["messages"]) == 2


async def test_a_rejected_template_cannot_be_sent(simulator_server, wechat):
    openid = await _openid(simulator_server)
    # given alice rejected the template
    assert await _tap(simulator_server, "reject", GROUP) == {GROUP: "reject"}
    # when we send it anyway, then WeChat refuses
    with pytest.raises(NotSubscribed):
        await wechat.send_subscribe_message(openid, GROUP, GROUP_DATA, page=PAGE)


async def test_an_unknown_template_is_filtered_and_refused(simulator_server, wechat):
    openid = await _openid(simulator_server)
    # given a template the mini-program never added
    assert await _tap(simulator_server, "accept", "tmpl-nobody-added", GROUP) == {
        "tmpl-nobody-added": "filter",
        GROUP: "accept",
    }
    # when we send it, then it is a configuration error, not a missing acceptance
    with pytest.raises(WeChatError) as refused:
        await wechat.send_subscribe_message(openid, "tmpl-nobody-added", GROUP_DATA, page=PAGE)
    assert refused.value.errcode == 40037
    assert not isinstance(refused.value, NotSubscribed)


@pytest.mark.parametrize(
    ("data", "page", "state"),
    [
        ({**GROUP_DATA, "thing1": "一" * 21}, PAGE, "formal"),  # thing: at most 20 characters
        ({**GROUP_DATA, "phrase2": "success"}, PAGE, "formal"),  # phrase: Chinese only
        ({**GROUP_DATA, "phrase2": "拼团已经成功"}, PAGE, "formal"),  # phrase: at most 5
        ({**GROUP_DATA, "time3": "明天傍晚"}, PAGE, "formal"),
        ({**GROUP_DATA, "thing1": ""}, PAGE, "formal"),
        ({"thing1": "蓝莓", "phrase2": "拼团成功"}, PAGE, "formal"),  # a keyword missing
        ({**GROUP_DATA, "thing4": "多余"}, PAGE, "formal"),  # a keyword the template lacks
        (GROUP_DATA, "pages/nowhere/index?id=7", "formal"),
        (GROUP_DATA, PAGE, "beta"),
    ],
)
async def test_data_breaking_the_templates_rules_is_refused(simulator_server, wechat, data, page, state):
    openid = await _openid(simulator_server)
    await _tap(simulator_server, "accept", GROUP)
    # when the message breaks a rule, then WeChat refuses it with 47003
    with pytest.raises(WeChatError) as refused:
        await wechat.send_subscribe_message(openid, GROUP, data, page=page, state=state)
    assert refused.value.errcode == 47003
    # and the acceptance was not used up: a correct message goes through
    await wechat.send_subscribe_message(openid, GROUP, GROUP_DATA, page=PAGE)


async def test_every_kind_of_keyword_at_its_limits_is_accepted(simulator_server, wechat):
    openid = await _openid(simulator_server)
    await _tap(simulator_server, "accept", GROUP, SHIPPED)
    # when every value is as long or as odd as its kind allows
    await wechat.send_subscribe_message(
        openid, GROUP, {"thing1": "一" * 20, "phrase2": "已发货", "time3": "2026年12月7日 18:00"}, page=PAGE
    )
    await wechat.send_subscribe_message(
        openid,
        SHIPPED,
        {"character_string1": "SF1234567890-A/B", "thing2": "顺丰速运", "amount3": "¥128.50"},
        page="pages/order/index",
        state="trial",
    )
    # then both were delivered
    seen = await _sim(simulator_server, "GET", "/wx/subscribe-messages?user=alice")
    assert [m["template_id"] for m in seen["messages"]] == [GROUP, SHIPPED]


async def test_the_official_accounts_openid_of_the_same_user_is_refused(simulator_server, wechat, settings):
    await _openid(simulator_server)
    await _tap(simulator_server, "accept", GROUP)
    # given alice's openid in the official account, not in the mini-program
    oa_openid = await _openid(simulator_server, appid=settings.mp_appid)
    # when we send to it, then WeChat does not know that openid here
    with pytest.raises(WeChatError) as refused:
        await wechat.send_subscribe_message(oa_openid, GROUP, GROUP_DATA, page=PAGE)
    assert refused.value.errcode == 40003


async def test_a_message_sent_is_recorded_with_its_data(simulator_server, wechat):
    openid = await _openid(simulator_server)
    await _tap(simulator_server, "accept", GROUP)
    await _openid(simulator_server, "bob")
    # when we send alice a message
    await wechat.send_subscribe_message(openid, GROUP, GROUP_DATA, page=PAGE, state="developer")
    # then she has it, as we sent it; bob has nothing
    seen = await _sim(simulator_server, "GET", "/wx/subscribe-messages?user=alice")
    [message] = seen["messages"]
    assert message["touser"] == openid and message["template_id"] == GROUP
    assert message["data"] == GROUP_DATA
    assert message["page"] == PAGE and message["miniprogram_state"] == "developer"
    assert message["at"]
    bob = await _sim(simulator_server, "GET", "/wx/subscribe-messages?user=bob")
    assert bob["messages"] == [] and bob["accepted"] == {GROUP: 0, SHIPPED: 0}
    everyone = await _sim(simulator_server, "GET", "/wx/subscribe-messages")
    assert [m["touser"] for m in everyone["messages"]] == [openid]


async def test_wechat_failing_the_send_is_typed(simulator_server, wechat):
    openid = await _openid(simulator_server)
    await _tap(simulator_server, "accept", GROUP)
    # given WeChat is busy once
    await _sim(simulator_server, "POST", "/wx/faults", {"api": "subscribe_send", "errcode": -1})
    # when we send, then it is WeChatBusy; the acceptance is still there for the retry
    with pytest.raises(WeChatBusy):
        await wechat.send_subscribe_message(openid, GROUP, GROUP_DATA, page=PAGE)
    await wechat.send_subscribe_message(openid, GROUP, GROUP_DATA, page=PAGE)
    assert (await _sim(simulator_server, "GET", "/wx/state"))["calls"]["subscribe_send"] == 2


@pytest.mark.parametrize(
    "body",
    [
        {"template_ids": [GROUP], "decision": "accept"},  # no user
        {"user": "alice", "template_ids": [], "decision": "accept"},
        {"user": "alice", "template_ids": [GROUP, SHIPPED, "a", "b"], "decision": "accept"},  # over 3
        {"user": "alice", "template_ids": GROUP, "decision": "accept"},
        {"user": "alice", "template_ids": [GROUP, GROUP], "decision": "accept"},
        {"user": "alice", "template_ids": [GROUP, 7], "decision": "accept"},
        {"user": "alice", "template_ids": [GROUP], "decision": "maybe"},
        {"user": "alice", "template_ids": [GROUP], "decision": "accept", "appid": "wx-nobody"},
        ["not", "an", "object"],
    ],
)
async def test_bad_phone_input_is_a_400(simulator_server, body):
    answer = await _sim(simulator_server, "POST", "/wx/subscribe", body, status=400)
    assert answer["error"]


async def test_the_official_account_cannot_ask_for_subscriptions(simulator_server, settings):
    body = {"user": "alice", "template_ids": [GROUP], "decision": "accept", "appid": settings.mp_appid}
    assert (await _sim(simulator_server, "POST", "/wx/subscribe", body, status=400))["error"]


@pytest.mark.parametrize("query", ["?user=al ice", "?user=", "?appid=wx-nobody"])
async def test_bad_look_inside_input_is_a_400(simulator_server, query):
    answer = await _sim(simulator_server, "GET", "/wx/subscribe-messages" + query, status=400)
    assert answer["error"]


def test_a_template_keyword_of_no_known_kind_is_a_configuration_error(tmp_path):
    with pytest.raises(ValueError, match="keyword"):
        SimulatorConfig(apps={"wx1": "s"}, data_dir=tmp_path, subscribe_templates={"t": ("colour1",)})
