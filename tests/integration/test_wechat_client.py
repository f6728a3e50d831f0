"""Our WeChat client against the simulator server: one shared token, fetched once by one
process, replaced and retried once when WeChat refuses it; WeChat's refusals typed."""

import asyncio

import pytest
from aiohttp import ClientSession

from commerce.cache import create_redis
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import (
    AccessTokenRefused,
    CodeUsed,
    InvalidCode,
    RiskyUser,
    WeChatBusy,
    WeChatUnavailable,
)


@pytest.fixture
async def two_processes(core, wired_settings):
    """Two WeChat clients with their own Redis connections, as two `shop serve` processes have
    (with the embedded Redis stand-in they share its one in-process server)."""
    other_redis = create_redis(wired_settings) if wired_settings.redis_url else core.redis
    other = WeChatClient(settings=wired_settings, redis=other_redis)
    yield core.wechat, other
    await other.close()
    if other_redis is not core.redis:
        await other_redis.aclose()


async def _sim(simulator, method: str, path: str, body: dict | None = None) -> dict:
    async with (
        ClientSession() as http,
        http.request(method, simulator.make_url(path), json=body) as response,
    ):
        assert response.status == 200, await response.text()
        return await response.json()


async def _state(simulator) -> dict:
    return await _sim(simulator, "GET", "/wx/state")


async def _fail_next(simulator, api: str, times: int = 1, **failure) -> None:
    await _sim(simulator, "POST", "/wx/faults", {"api": api, "times": times, **failure})


async def _phone_code(simulator, phone: str = "13900139000") -> str:
    return (await _sim(simulator, "POST", "/wx/phone-code", {"user": "alice", "phone": phone}))["code"]


async def test_two_processes_share_one_token(two_processes, simulator, wired_settings):
    first, second = two_processes
    # when both processes need the access token
    token = await first.access_token()
    # then the second uses the first's, and WeChat was asked once
    assert await second.access_token() == token
    state = await _state(simulator)
    assert state["calls"]["stable_token"] == 1
    assert state["apps"][wired_settings.miniapp_appid]["tokens_issued"] == 1


async def test_a_stampede_fetches_the_token_once(two_processes, simulator):
    first, second = two_processes
    # when 20 tasks in each of two processes need a token nobody has yet
    tokens = await asyncio.gather(*(client.access_token() for client in (first, second) for _ in range(20)))
    # then they all got the same one, from one call to WeChat
    assert len(set(tokens)) == 1
    assert (await _state(simulator))["calls"]["stable_token"] == 1


async def test_an_expired_token_is_refreshed_once_and_the_call_retried(
    two_processes, simulator, wired_settings
):
    first, second = two_processes
    old = await first.access_token()
    await _sim(simulator, "POST", "/wx/expire-token", {"appid": wired_settings.miniapp_appid})
    code = await _phone_code(simulator)
    # when a call meets 42001
    phone = await first.get_phone_number(code)
    # then it succeeded on the one retry, with one new token that the other process uses too
    assert phone.pure_phone_number == "13900139000" and phone.country_code == "86"
    new = await second.access_token()
    assert new != old and await first.access_token() == new
    state = await _state(simulator)
    assert state["calls"]["stable_token"] == 2 and state["calls"]["getuserphonenumber"] == 2
    assert state["apps"][wired_settings.miniapp_appid]["tokens_issued"] == 2


async def test_a_token_revoked_elsewhere_is_replaced_without_forcing(
    two_processes, simulator, wired_settings
):
    first, _ = two_processes
    await first.access_token()
    # given someone else forced a refresh (a leaked secret being rotated, say)
    async with ClientSession() as http:
        await http.post(
            simulator.make_url("/cgi-bin/stable_token"),
            json={
                "grant_type": "client_credential",
                "appid": wired_settings.miniapp_appid,
                "secret": wired_settings.miniapp_secret,
                "force_refresh": True,
            },
        )
    # when our call meets 40001
    phone = await first.get_phone_number(await _phone_code(simulator))
    # then normal mode gave us the new token: we forced nothing ourselves
    assert phone.pure_phone_number == "13900139000"
    assert (await _state(simulator))["apps"][wired_settings.miniapp_appid]["forced_refreshes"] == 1


async def test_a_refused_token_that_wechat_still_hands_out_is_force_refreshed(
    two_processes, simulator, wired_settings
):
    first, _ = two_processes
    old = await first.access_token()
    # given WeChat refuses the token it would still hand out in normal mode
    await _fail_next(simulator, "getuserphonenumber", errcode=40001)
    # when a call meets that refusal
    phone = await first.get_phone_number(await _phone_code(simulator))
    # then the client forced one refresh and the retry went through
    assert phone.pure_phone_number == "13900139000"
    assert await first.access_token() != old
    app = (await _state(simulator))["apps"][wired_settings.miniapp_appid]
    assert app["forced_refreshes"] == 1


async def test_the_call_is_retried_only_once(two_processes, simulator):
    first, _ = two_processes
    await first.access_token()
    await _fail_next(simulator, "getuserphonenumber", times=2, errcode=42001)
    with pytest.raises(AccessTokenRefused):
        await first.get_phone_number(await _phone_code(simulator))
    assert (await _state(simulator))["calls"]["getuserphonenumber"] == 2


async def test_an_outage_during_a_stampede_costs_one_call(two_processes, simulator):
    first, second = two_processes
    # given WeChat's gateway fails the next token request
    await _fail_next(simulator, "stable_token", http_status=502)
    # when 10 tasks in each process need a token
    results = await asyncio.gather(
        *(client.access_token() for client in (first, second) for _ in range(10)), return_exceptions=True
    )
    # then every one of them is told WeChat is unavailable, after one call
    assert all(isinstance(result, WeChatUnavailable) for result in results)
    assert (await _state(simulator))["calls"]["stable_token"] == 1


async def test_login_codes_exchanged_and_refusals_typed(core, simulator):
    wechat = core.wechat
    issued = await _sim(simulator, "POST", "/wx/login-code", {"user": "alice"})
    # a good code
    session = await wechat.code_to_session(issued["code"])
    assert (session.openid, session.unionid) == (issued["openid"], issued["unionid"])
    assert session.session_key
    # used, unknown
    with pytest.raises(CodeUsed):
        await wechat.code_to_session(issued["code"])
    with pytest.raises(InvalidCode):
        await wechat.code_to_session("nonsense")
    # a blocked user, WeChat busy, WeChat's gateway failing
    await _fail_next(simulator, "jscode2session", errcode=40226)
    with pytest.raises(RiskyUser):
        await wechat.code_to_session("anything")
    await _fail_next(simulator, "jscode2session", errcode=-1)
    with pytest.raises(WeChatBusy) as busy:
        await wechat.code_to_session("anything")
    assert isinstance(busy.value, WeChatUnavailable)
    await _fail_next(simulator, "jscode2session", http_status=502)
    with pytest.raises(WeChatUnavailable):
        await wechat.code_to_session("anything")


async def test_an_unreachable_wechat_is_reported_as_unavailable(core, wired_settings):
    cut_off = WeChatClient(
        settings=wired_settings.model_copy(update={"wechat_api_base": "http://127.0.0.1:9"}), redis=core.redis
    )
    try:
        with pytest.raises(WeChatUnavailable) as error:
            await cut_off.code_to_session("anything")
        assert "secret" not in str(error.value)  # the query (secret, code) never reaches a log
        with pytest.raises(WeChatUnavailable):
            await cut_off.get_phone_number("anything")
    finally:
        await cut_off.close()
