"""The login use cases on a real database, with WeChat played by the simulator server."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import ClientSession

from commerce import clock
from commerce.core import Core
from commerce.errors import CommerceError
from commerce.users import services as users
from commerce.users.models import User
from commerce.users.services import Shopper
from commerce.wechat.client import WeChatClient

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


async def _sim(simulator, path: str, body: dict) -> dict:
    async with ClientSession() as http, http.post(simulator.make_url(path), json=body) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def _login(core: Core, simulator, user: str = "alice") -> users.LoginResult:
    code = (await _sim(simulator, "/wx/login-code", {"user": user}))["code"]
    return await users.login_with_code(code=code, wechat=core.wechat, settings=core.settings)


async def _refusal(awaitable) -> str:
    with pytest.raises(CommerceError) as refused:
        await awaitable
    return refused.value.code


async def _shopper(result: users.LoginResult, core: Core) -> Shopper:
    return await users.authenticate_token(token=result.token, settings=core.settings)


async def test_a_first_login_creates_the_shopper_and_later_ones_find_them(core, simulator):
    identity = await _sim(simulator, "/wx/login-code", {"user": "alice"})
    # given a first login
    with clock.frozen(T0):
        first = await users.login_with_code(code=identity["code"], wechat=core.wechat, settings=core.settings)
    # then the shopper exists with WeChat's ids
    assert first.is_new and first.expires_in == core.settings.session_ttl_seconds
    stored = await User.get(id=first.user.id)
    assert (stored.openid, stored.unionid) == (identity["openid"], identity["unionid"])
    assert stored.last_login_at == T0
    # when they log in again later
    with clock.frozen(T0 + timedelta(days=1)):
        second = await _login(core, simulator)
    # then it is the same shopper, with the time of this login
    assert not second.is_new and second.user == first.user
    await stored.refresh_from_db()
    assert stored.last_login_at == T0 + timedelta(days=1)
    assert await User.all().count() == 1


async def test_concurrent_first_logins_of_one_person_make_one_user(core, simulator):
    codes = [(await _sim(simulator, "/wx/login-code", {"user": "carol"}))["code"] for _ in range(10)]
    results = await asyncio.gather(
        *(users.login_with_code(code=c, wechat=core.wechat, settings=core.settings) for c in codes)
    )
    assert len({r.user.id for r in results}) == 1
    assert sum(r.is_new for r in results) == 1
    assert await User.all().count() == 1


async def test_a_unionid_stays_with_the_account_that_holds_it(core, simulator):
    # given an account (from an earlier mini-program, say) holding bob's unionid
    bob = await _sim(simulator, "/wx/login-code", {"user": "bob"})
    holder = await User.create(openid="o-earlier-app-openid-000000000", unionid=bob["unionid"])
    # when bob logs in with this mini-program
    result = await users.login_with_code(code=bob["code"], wechat=core.wechat, settings=core.settings)
    # then he has an account of his own, and the unionid stays where it was
    assert result.is_new and result.user.id != holder.id
    assert (await User.get(id=result.user.id)).unionid is None
    assert (await User.get(id=holder.id)).unionid == bob["unionid"]


async def test_a_shopper_without_a_unionid_gets_it_on_the_next_login(core, simulator):
    dave = await _sim(simulator, "/wx/login-code", {"user": "dave"})
    await User.create(openid=dave["openid"], unionid=None)
    result = await users.login_with_code(code=dave["code"], wechat=core.wechat, settings=core.settings)
    assert not result.is_new
    assert (await User.get(id=result.user.id)).unionid == dave["unionid"]


async def test_a_session_ends_when_revoked_or_when_the_account_is_gone(core, simulator):
    result = await _login(core, simulator)
    shopper = await _shopper(result, core)
    assert shopper.user_id == result.user.id and shopper.openid
    # revoked: every session ends, a new login works
    await users.end_all_sessions(shopper=shopper)
    assert await _refusal(_shopper(result, core)) == "session_expired"
    again = await _login(core, simulator)
    assert (await _shopper(again, core)).user_id == result.user.id
    # gone
    await User.filter(id=result.user.id).delete()
    assert await _refusal(_shopper(again, core)) == "session_expired"
    assert await _refusal(users.get_profile(shopper=shopper)) == "session_expired"


async def test_wrong_and_used_codes_are_invalid_login_codes(core, simulator):
    code = (await _sim(simulator, "/wx/login-code", {"user": "alice"}))["code"]
    await users.login_with_code(code=code, wechat=core.wechat, settings=core.settings)
    for wrong in (code, "nonsense"):
        refusal = users.login_with_code(code=wrong, wechat=core.wechat, settings=core.settings)
        assert await _refusal(refusal) == "invalid_login_code"


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        ({"errcode": 40226}, "login_refused"),
        ({"errcode": 45011}, "wechat_rate_limited"),
        ({"errcode": -1}, "wechat_unavailable"),
        ({"http_status": 503}, "wechat_unavailable"),
    ],
)
async def test_wechat_refusals_become_our_codes(core, simulator, failure, code):
    login_code = (await _sim(simulator, "/wx/login-code", {"user": "alice"}))["code"]
    await _sim(simulator, "/wx/faults", {"api": "jscode2session", **failure})
    refusal = users.login_with_code(code=login_code, wechat=core.wechat, settings=core.settings)
    assert await _refusal(refusal) == code
    assert await User.all().count() == 0


async def test_a_wrong_app_secret_is_wechat_unavailable_not_the_shoppers_fault(core, simulator):
    # given our configuration names a secret WeChat does not know
    misconfigured = WeChatClient(
        settings=core.settings.model_copy(update={"wechat_miniapp_secret": "wrong-secret"}), redis=core.redis
    )
    code = (await _sim(simulator, "/wx/login-code", {"user": "alice"}))["code"]
    try:
        refusal = users.login_with_code(code=code, wechat=misconfigured, settings=core.settings)
        assert await _refusal(refusal) == "wechat_unavailable"
    finally:
        await misconfigured.close()


async def test_a_bound_phone_is_stored_and_shown_masked(core, simulator):
    shopper = await _shopper(await _login(core, simulator), core)
    code = (await _sim(simulator, "/wx/phone-code", {"user": "alice", "phone": "13800138000"}))["code"]
    view = await users.bind_phone(shopper=shopper, code=code, wechat=core.wechat)
    assert (view.phone_masked, view.has_phone) == ("138****8000", True)
    stored = await User.get(id=shopper.user_id)
    assert (stored.phone, stored.phone_country_code) == ("13800138000", "86")
    assert await users.get_profile(shopper=shopper) == view


async def test_someone_elses_phone_code_is_refused_and_stays_theirs(core, simulator):
    alice = await _shopper(await _login(core, simulator, "alice"), core)
    bob = await _shopper(await _login(core, simulator, "bob"), core)
    bobs = (await _sim(simulator, "/wx/phone-code", {"user": "bob", "phone": "13900139000"}))["code"]
    refusal = users.bind_phone(shopper=alice, code=bobs, wechat=core.wechat)
    assert await _refusal(refusal) == "invalid_phone_code"
    assert not (await users.get_profile(shopper=alice)).has_phone
    assert (await users.bind_phone(shopper=bob, code=bobs, wechat=core.wechat)).has_phone


async def test_phone_binding_when_wechat_fails(core, simulator):
    shopper = await _shopper(await _login(core, simulator), core)
    code = (await _sim(simulator, "/wx/phone-code", {"user": "alice", "phone": "13800138000"}))["code"]
    await _sim(simulator, "/wx/faults", {"api": "getuserphonenumber", "errcode": -1})
    busy = users.bind_phone(shopper=shopper, code=code, wechat=core.wechat)
    assert await _refusal(busy) == "wechat_unavailable"
    await _sim(simulator, "/wx/faults", {"api": "getuserphonenumber", "errcode": 45011})
    limited = users.bind_phone(shopper=shopper, code=code, wechat=core.wechat)
    assert await _refusal(limited) == "wechat_rate_limited"
    # the code was not spent by those failures
    assert (await users.bind_phone(shopper=shopper, code=code, wechat=core.wechat)).has_phone
