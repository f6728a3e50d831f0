"""The simulator behaves like WeChat: single-use codes, expiry, token rules, refusals."""

from datetime import UTC, datetime, timedelta

import pytest

from commerce.config import SIMULATOR_MINIAPP_APPID, SIMULATOR_MINIAPP_SECRET
from wechat_simulator import SimulatorConfig, create_simulator_app


class MovableClock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def sim_clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def sim(aiohttp_client, tmp_path, sim_clock):
    config = SimulatorConfig(
        apps={SIMULATOR_MINIAPP_APPID: SIMULATOR_MINIAPP_SECRET}, data_dir=tmp_path, now=sim_clock
    )
    return await aiohttp_client(create_simulator_app(config))


async def _login_code(sim, user="alice") -> str:
    return (await (await sim.post("/wx/login-code", json={"user": user})).json())["code"]


async def _session(sim, code, secret=SIMULATOR_MINIAPP_SECRET) -> dict:
    params = {
        "appid": SIMULATOR_MINIAPP_APPID,
        "secret": secret,
        "js_code": code,
        "grant_type": "authorization_code",
    }
    return await (await sim.get("/sns/jscode2session", params=params)).json()


async def _stable_token(sim, force=False) -> dict:
    body = {
        "grant_type": "client_credential",
        "appid": SIMULATOR_MINIAPP_APPID,
        "secret": SIMULATOR_MINIAPP_SECRET,
        "force_refresh": force,
    }
    return await (await sim.post("/cgi-bin/stable_token", json=body)).json()


async def test_a_login_code_works_once_and_maps_a_user_to_stable_ids(sim):
    first = await _session(sim, await _login_code(sim))
    again = await _session(sim, await _login_code(sim))
    assert (
        first["openid"] == again["openid"] and first["openid"].startswith("o") and len(first["openid"]) == 28
    )
    assert first["unionid"] == again["unionid"]
    other = await _session(sim, await _login_code(sim, "bob"))
    assert other["openid"] != first["openid"]


async def test_used_unknown_and_expired_codes_are_refused_like_wechat(sim, sim_clock):
    code = await _login_code(sim)
    await _session(sim, code)
    assert (await _session(sim, code))["errcode"] == 40163
    assert (await _session(sim, "nonsense"))["errcode"] == 40029
    stale = await _login_code(sim)
    sim_clock.at += timedelta(minutes=5, seconds=1)
    assert (await _session(sim, stale))["errcode"] == 40029
    assert (await _session(sim, await _login_code(sim), secret="wrong"))["errcode"] == 40125


async def test_stable_token_is_stable_until_renewal_and_force_refresh_revokes(sim, sim_clock):
    first = await _stable_token(sim)
    assert first["expires_in"] == 7200
    assert (await _stable_token(sim))["access_token"] == first["access_token"]
    # within five minutes of expiry, normal mode renews
    sim_clock.at += timedelta(seconds=7200 - 299)
    renewed = await _stable_token(sim)
    assert renewed["access_token"] != first["access_token"]
    # a forced refresh revokes the current token at once
    forced = await _stable_token(sim, force=True)
    phone_call = await sim.post(
        "/wxa/business/getuserphonenumber",
        params={"access_token": renewed["access_token"]},
        json={"code": "x"},
    )
    assert (await phone_call.json())["errcode"] == 40001
    assert forced["access_token"] != renewed["access_token"]


async def test_phone_number_needs_a_valid_token_and_a_single_use_code(sim, sim_clock):
    token = (await _stable_token(sim))["access_token"]
    code = (await (await sim.post("/wx/phone-code", json={"user": "alice", "phone": "13800138000"})).json())[
        "code"
    ]
    url = "/wxa/business/getuserphonenumber"
    ok = await (await sim.post(url, params={"access_token": token}, json={"code": code})).json()
    assert ok["phone_info"]["purePhoneNumber"] == "13800138000"
    again = await (await sim.post(url, params={"access_token": token}, json={"code": code})).json()
    assert again["errcode"] == 40163
    sim_clock.at += timedelta(hours=3)
    expired = await (await sim.post(url, params={"access_token": token}, json={"code": code})).json()
    assert expired["errcode"] == 42001


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/wx/login-code", b"not json"),
        ("/wx/login-code", b'{"user": ""}'),
        ("/wx/phone-code", b'{"user": "a", "phone": "123"}'),
    ],
)
async def test_control_endpoints_refuse_bad_input_with_400(sim, path, body):
    response = await sim.post(path, data=body)
    assert response.status == 400
    assert "error" in await response.json()
