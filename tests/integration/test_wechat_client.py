"""Our WeChat client against the simulator server: one shared token, refreshed once, retried once."""

import asyncio

import pytest
from aiohttp import ClientSession

from commerce.cache import create_redis
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import WeChatUnavailable


@pytest.fixture
async def two_processes(core, wired_settings):
    """Two WeChat clients with their own Redis connections, as two `shop serve` processes have."""
    other_redis = create_redis(wired_settings) if wired_settings.redis_url else core.redis
    other = WeChatClient(settings=wired_settings, redis=other_redis)
    yield core.wechat, other
    await other.close()
    if other_redis is not core.redis:
        await other_redis.aclose()


async def _state(simulator) -> dict:
    async with ClientSession() as http, http.get(simulator.make_url("/wx/state")) as response:
        return await response.json()


async def _post(simulator, path: str, body: dict) -> dict:
    async with ClientSession() as http, http.post(simulator.make_url(path), json=body) as response:
        return await response.json()


async def test_two_processes_share_one_token(two_processes, simulator, wired_settings):
    first, second = two_processes
    assert await first.access_token() == await second.access_token()
    state = await _state(simulator)
    assert state["apps"][wired_settings.miniapp_appid]["tokens_issued"] == 1


async def test_a_stampede_refreshes_the_token_once(two_processes, simulator, wired_settings):
    first, second = two_processes
    tokens = await asyncio.gather(*(client.access_token() for client in (first, second) for _ in range(20)))
    assert len(set(tokens)) == 1
    state = await _state(simulator)
    assert state["apps"][wired_settings.miniapp_appid]["tokens_issued"] == 1


async def test_an_expired_token_is_refreshed_once_and_the_call_retried(
    two_processes, simulator, wired_settings
):
    first, _ = two_processes
    old = await first.access_token()
    await _post(simulator, "/wx/expire-token", {"appid": wired_settings.miniapp_appid})
    code = (await _post(simulator, "/wx/phone-code", {"user": "alice", "phone": "13900139000"}))["code"]
    # when a call meets 42001
    phone = await first.get_phone_number(code)
    # then it succeeded on the one retry, with one new token
    assert phone.pure_phone_number == "13900139000"
    assert await first.access_token() != old
    state = await _state(simulator)
    assert state["apps"][wired_settings.miniapp_appid]["tokens_issued"] == 2


async def test_an_unreachable_wechat_is_reported_as_unavailable(core, wired_settings):
    cut_off = WeChatClient(
        settings=wired_settings.model_copy(update={"wechat_api_base": "http://127.0.0.1:9"}), redis=core.redis
    )
    try:
        with pytest.raises(WeChatUnavailable):
            await cut_off.code_to_session("anything")
    finally:
        await cut_off.close()
