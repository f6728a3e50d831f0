"""Login, profile and phone binding through the real app, against the simulator server."""

import asyncio
from datetime import timedelta

import jwt
import pytest
from aiohttp import ClientSession

from commerce import clock
from commerce.users.models import User
from tests.edges.shoppers import log_in, simulator_post


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_login_creates_the_shopper_once_and_me_shows_them(client, simulator):
    # given a first login
    first = await log_in(client, simulator)
    assert first["is_new"] is True and first["token"]
    # when the same WeChat user logs in again
    second = await log_in(client, simulator)
    # then it is the same shopper, and /me answers with the token
    assert second["is_new"] is False and second["user"]["id"] == first["user"]["id"]
    me = await client.get("/api/v1/me", headers=_bearer(second["token"]))
    assert me.status == 200
    body = await me.json()
    assert body["user"] == {
        "id": first["user"]["id"],
        "nickname": "",
        "avatar_url": "",
        "phone_masked": "",
        "has_phone": False,
    }
    assert "openid" not in body["user"] and "session_key" not in await me.text()
    assert await User.all().count() == 1


async def test_a_login_code_can_be_used_once(client, simulator):
    code = (await simulator_post(simulator, "/wx/login-code", {"user": "alice"}))["code"]
    assert (await client.post("/api/v1/auth/login", json={"code": code})).status == 200
    again = await client.post("/api/v1/auth/login", json={"code": code})
    assert again.status == 400
    assert (await again.json())["error"]["code"] == "invalid_login_code"


async def test_concurrent_first_logins_of_one_person_make_one_shopper(client, simulator):
    codes = [(await simulator_post(simulator, "/wx/login-code", {"user": "carol"}))["code"] for _ in range(6)]
    responses = await asyncio.gather(*(client.post("/api/v1/auth/login", json={"code": c}) for c in codes))
    assert [r.status for r in responses] == [200] * 6
    ids = {(await r.json())["user"]["id"] for r in responses}
    assert len(ids) == 1
    assert await User.all().count() == 1


async def test_phone_binding_shows_only_a_masked_number(client, simulator):
    login = await log_in(client, simulator)
    allowed = await simulator_post(simulator, "/wx/phone-code", {"user": "alice", "phone": "13800138000"})
    code = allowed["code"]
    response = await client.post("/api/v1/auth/phone", json={"code": code}, headers=_bearer(login["token"]))
    assert response.status == 200
    user = (await response.json())["user"]
    assert (user["phone_masked"], user["has_phone"]) == ("138****8000", True)
    assert "13800138000" not in await response.text()
    stored = await User.get(id=user["id"])
    assert stored.phone == "13800138000"
    # the same phone code cannot be used twice
    again = await client.post("/api/v1/auth/phone", json={"code": code}, headers=_bearer(login["token"]))
    assert (again.status, (await again.json())["error"]["code"]) == (400, "invalid_phone_code")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer not-a-token"},
    ],
)
async def test_me_without_a_valid_token_is_401(client, headers):
    response = await client.get("/api/v1/me", headers=headers)
    assert response.status == 401
    assert (await response.json())["error"]["code"] in {"unauthenticated", "session_expired"}


async def test_tampered_expired_and_revoked_tokens_are_refused(client, simulator, wired_settings):
    login = await log_in(client, simulator)
    token = login["token"]
    # tampered: signed with another key
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "sub": "999"}, "another-key-that-is-long-enough-000000", algorithm="HS256")
    assert (await client.get("/api/v1/me", headers=_bearer(forged))).status == 401
    # expired: the clock moves past the session lifetime
    with clock.frozen(clock.now() + timedelta(seconds=wired_settings.session_ttl_seconds + 1)):
        expired = await client.get("/api/v1/me", headers=_bearer(token))
    assert (expired.status, (await expired.json())["error"]["code"]) == (401, "session_expired")
    # revoked: logging out ends every session
    assert (await client.post("/api/v1/auth/logout", headers=_bearer(token))).status == 204
    assert (await client.get("/api/v1/me", headers=_bearer(token))).status == 401


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "malformed_json"),
        (b"", "malformed_json"),
        (b"[]", "invalid_request"),
        (b'{"code": 123}', "invalid_request"),
        (b"{}", "invalid_request"),
        (b'{"code": ""}', "invalid_request"),
        (b'{"code": "x", "extra": 1}', "invalid_request"),
    ],
)
async def test_bad_login_bodies_get_a_clear_400(client, body, code):
    response = await client.post(
        "/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == code and error["message"]


async def test_wechat_down_is_a_503_not_a_500(aiohttp_client, wired_settings, empty_database, empty_redis):
    from shop.app import create_app

    cut_off = wired_settings.model_copy(update={"wechat_api_base": "http://127.0.0.1:9"})
    client = await aiohttp_client(create_app(cut_off, mount_simulator=False))
    response = await client.post("/api/v1/auth/login", json={"code": "anything"})
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "wechat_unavailable"


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        ({"errcode": 40226}, 403, "login_refused"),
        ({"errcode": 45011}, 429, "wechat_rate_limited"),
        ({"errcode": -1}, 503, "wechat_unavailable"),
        ({"http_status": 502}, 503, "wechat_unavailable"),
    ],
)
async def test_wechat_refusing_a_login_has_a_stable_code(client, simulator, failure, status, code):
    # given WeChat will refuse the next code exchange
    login_code = (await simulator_post(simulator, "/wx/login-code", {"user": "alice"}))["code"]
    await simulator_post(simulator, "/wx/faults", {"api": "jscode2session", **failure})
    # when the shopper logs in
    response = await client.post("/api/v1/auth/login", json={"code": login_code})
    # then the answer says why, in words a shopper reads
    assert response.status == status
    error = (await response.json())["error"]
    assert error["code"] == code and error["message"]


@pytest.mark.parametrize("code", ["x" * 129, "含中文", "with space"])
async def test_codes_that_cannot_be_wechat_codes_are_refused_before_asking_wechat(client, simulator, code):
    response = await client.post("/api/v1/auth/login", json={"code": code})
    assert (response.status, (await response.json())["error"]["code"]) == (400, "invalid_request")
    async with ClientSession() as http, http.get(simulator.make_url("/wx/state")) as state:
        assert "jscode2session" not in (await state.json())["calls"]


async def test_binding_a_phone_needs_a_session_and_a_phone_code(client, simulator):
    # without a session
    anonymous = await client.post("/api/v1/auth/phone", json={"code": "x"})
    assert anonymous.status == 401
    # with a login code instead of a phone code
    login = await log_in(client, simulator)
    login_code = (await simulator_post(simulator, "/wx/login-code", {"user": "alice"}))["code"]
    headers = _bearer(login["token"])
    response = await client.post("/api/v1/auth/phone", json={"code": login_code}, headers=headers)
    assert (response.status, (await response.json())["error"]["code"]) == (400, "invalid_phone_code")


async def test_sessions_follow_our_clock_not_the_wall_clock(client, simulator):
    # given the service's clock is a month ahead of the wall clock
    with clock.frozen(clock.now() + timedelta(days=30)):
        login = await log_in(client, simulator)
        # then the token it issues works under it
        assert (await client.get("/api/v1/me", headers=_bearer(login["token"]))).status == 200
