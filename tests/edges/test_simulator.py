"""The simulator behaves like WeChat: single-use codes, expiry, token rules, refusals, and it
never answers a 500 whatever it is sent."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from commerce.config import (
    SIMULATOR_MINIAPP_APPID,
    SIMULATOR_MINIAPP_SECRET,
    SIMULATOR_MP_APPID,
    SIMULATOR_MP_SECRET,
)
from wechat_simulator import SimulatorConfig, create_simulator_app

APPID, SECRET = SIMULATOR_MINIAPP_APPID, SIMULATOR_MINIAPP_SECRET
PHONE_API = "/wxa/business/getuserphonenumber"


class MovableClock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def sim_clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def sim(aiohttp_client, tmp_path, sim_clock):
    config = SimulatorConfig(
        apps={APPID: SECRET, SIMULATOR_MP_APPID: SIMULATOR_MP_SECRET}, data_dir=tmp_path, now=sim_clock
    )
    return await aiohttp_client(create_simulator_app(config))


async def _control(sim, path: str, body: dict) -> dict:
    response = await sim.post(path, json=body)
    assert response.status == 200, await response.text()
    return await response.json()


async def _login_code(sim, user: str = "alice", **extra) -> str:
    return (await _control(sim, "/wx/login-code", {"user": user, **extra}))["code"]


async def _phone_code(sim, user: str = "alice", phone: str = "13800138000") -> str:
    return (await _control(sim, "/wx/phone-code", {"user": user, "phone": phone}))["code"]


async def _session(sim, code, *, appid=APPID, secret=SECRET, grant_type="authorization_code") -> dict:
    params = {"appid": appid, "secret": secret, "js_code": code, "grant_type": grant_type}
    response = await sim.get("/sns/jscode2session", params=params)
    assert response.status == 200
    return json.loads(await response.text())  # WeChat labels this JSON text/plain


async def _stable_token(sim, force=False, appid=APPID, secret=SECRET) -> dict:
    body = {"grant_type": "client_credential", "appid": appid, "secret": secret, "force_refresh": force}
    return await (await sim.post("/cgi-bin/stable_token", json=body)).json()


async def _classic_token(sim) -> dict:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    return await (await sim.get("/cgi-bin/token", params=params)).json()


async def _phone(sim, token: str, body: dict) -> dict:
    return await (await sim.post(PHONE_API, params={"access_token": token}, json=body)).json()


async def _state(sim) -> dict:
    return await (await sim.get("/wx/state")).json()


# --- login ---------------------------------------------------------------------------------


async def test_a_login_code_works_once_and_maps_a_user_to_stable_ids(sim):
    # given two logins of alice and one of bob
    first = await _session(sim, await _login_code(sim))
    again = await _session(sim, await _login_code(sim))
    other = await _session(sim, await _login_code(sim, "bob"))
    # then alice is always the same person, shaped like WeChat's ids, and bob another
    assert first["openid"] == again["openid"]
    assert first["openid"].startswith("o") and len(first["openid"]) == 28
    assert first["unionid"] == again["unionid"] and first["unionid"].startswith("o")
    assert first["session_key"] and "errcode" not in first
    assert other["openid"] != first["openid"] and other["unionid"] != first["unionid"]


async def test_one_person_has_an_openid_per_app_and_one_unionid(sim):
    mini = await _session(sim, await _login_code(sim))
    official = await _session(
        sim,
        await _login_code(sim, appid=SIMULATOR_MP_APPID),
        appid=SIMULATOR_MP_APPID,
        secret=SIMULATOR_MP_SECRET,
    )
    assert mini["openid"] != official["openid"]
    assert mini["unionid"] == official["unionid"]


async def test_the_control_endpoint_tells_the_ids_wechat_will_give(sim):
    issued = await _control(sim, "/wx/login-code", {"user": "alice"})
    session = await _session(sim, issued["code"])
    assert (issued["openid"], issued["unionid"]) == (session["openid"], session["unionid"])
    assert issued["expires_in"] == 300


async def test_jscode2session_answers_json_labelled_text_plain_like_wechat(sim):
    response = await sim.get(
        "/sns/jscode2session",
        params={"appid": APPID, "secret": SECRET, "js_code": "x", "grant_type": "authorization_code"},
    )
    assert response.content_type == "text/plain"
    assert json.loads(await response.text())["errcode"] == 40029


async def test_used_unknown_expired_and_foreign_codes_are_refused_like_wechat(sim, sim_clock):
    # used
    code = await _login_code(sim)
    await _session(sim, code)
    used = await _session(sim, code)
    assert used["errcode"] == 40163 and used["errmsg"].startswith("code been used")
    # unknown, missing
    assert (await _session(sim, "nonsense"))["errcode"] == 40029
    assert (await _session(sim, ""))["errcode"] == 41008
    # expired: five minutes
    fresh, stale = await _login_code(sim), await _login_code(sim)
    sim_clock.advance(minutes=4, seconds=59)
    assert "openid" in await _session(sim, fresh)
    sim_clock.advance(seconds=1)
    assert (await _session(sim, stale))["errcode"] == 40029
    # issued to another app, or a phone code
    mp_code = await _login_code(sim, appid=SIMULATOR_MP_APPID)
    assert (await _session(sim, mp_code))["errcode"] == 40029
    assert (await _session(sim, await _phone_code(sim)))["errcode"] == 40029


@pytest.mark.parametrize(
    ("change", "errcode"),
    [
        ({"secret": "wrong"}, 40125),
        ({"appid": "wx-unknown"}, 40013),
        ({"appid": ""}, 41002),
        ({"secret": ""}, 41004),
        ({"grant_type": "client_credential"}, 40002),
    ],
)
async def test_wrong_credentials_are_refused_and_the_code_stays_usable(sim, change, errcode):
    code = await _login_code(sim)
    assert (await _session(sim, code, **change))["errcode"] == errcode
    assert "openid" in await _session(sim, code)


# --- access tokens -------------------------------------------------------------------------


async def test_stable_token_is_stable_then_renewed_in_its_last_five_minutes(sim, sim_clock):
    first = await _stable_token(sim)
    assert first["expires_in"] == 7200
    sim_clock.advance(seconds=3600)
    same = await _stable_token(sim)
    assert (same["access_token"], same["expires_in"]) == (first["access_token"], 3600)
    # within five minutes of expiry, normal mode hands out a new token ...
    sim_clock.advance(seconds=3600 - 299)
    renewed = await _stable_token(sim)
    assert renewed["access_token"] != first["access_token"] and renewed["expires_in"] == 7200
    # ... and the old one keeps working until its own expiry
    code = await _phone_code(sim)
    assert (await _phone(sim, first["access_token"], {"code": code}))["errcode"] == 0
    sim_clock.advance(seconds=300)
    assert (await _phone(sim, first["access_token"], {"code": "x"}))["errcode"] == 42001
    assert (await _state(sim))["apps"][APPID]["tokens_issued"] == 2


async def test_a_forced_refresh_revokes_the_token_at_once(sim):
    current = await _stable_token(sim)
    forced = await _stable_token(sim, force=True)
    assert forced["access_token"] != current["access_token"]
    assert (await _phone(sim, current["access_token"], {"code": "x"}))["errcode"] == 40001
    assert (await _stable_token(sim))["access_token"] == forced["access_token"]


async def test_forced_refreshes_need_30_seconds_between_and_20_a_day(sim, sim_clock):
    first = await _stable_token(sim, force=True)
    # less than 30 s later: not refreshed
    sim_clock.advance(seconds=29)
    assert (await _stable_token(sim, force=True))["access_token"] == first["access_token"]
    for _ in range(19):
        sim_clock.advance(seconds=30)
        assert "access_token" in await _stable_token(sim, force=True)
    # the 21st forced refresh of the (Beijing) day
    sim_clock.advance(seconds=30)
    assert (await _stable_token(sim, force=True))["errcode"] == 45009
    assert "access_token" in await _stable_token(sim)  # normal mode still works
    assert (await _state(sim))["apps"][APPID]["forced_refreshes"] == 20
    # the next day
    sim_clock.advance(days=1)
    assert "access_token" in await _stable_token(sim, force=True)


async def test_classic_tokens_do_not_touch_the_stable_one(sim, sim_clock):
    stable = await _stable_token(sim)
    old_classic = await _classic_token(sim)
    new_classic = await _classic_token(sim)
    assert old_classic["access_token"] != new_classic["access_token"]
    assert (await _stable_token(sim))["access_token"] == stable["access_token"]
    # the replaced classic token works five more minutes
    assert (await _phone(sim, old_classic["access_token"], {"code": await _phone_code(sim)}))["errcode"] == 0
    sim_clock.advance(minutes=5)
    assert (await _phone(sim, old_classic["access_token"], {"code": "x"}))["errcode"] == 42001
    state = (await _state(sim))["apps"][APPID]
    assert (state["tokens_issued"], state["classic_tokens_issued"]) == (1, 2)


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"grant_type": "client_credential", "appid": APPID, "secret": "wrong"}, 40125),
        ({"grant_type": "client_credential", "appid": "wx-unknown", "secret": SECRET}, 40013),
        ({"grant_type": "password", "appid": APPID, "secret": SECRET}, 40002),
        ({"grant_type": "client_credential", "secret": SECRET}, 41002),
        ({"grant_type": "client_credential", "appid": ["a"], "secret": SECRET}, 40013),
    ],
)
async def test_stable_token_refuses_wrong_credentials(sim, body, errcode):
    assert (await (await sim.post("/cgi-bin/stable_token", json=body)).json())["errcode"] == errcode


# --- phone numbers -------------------------------------------------------------------------


async def test_a_phone_code_gives_the_number_once_with_a_valid_token(sim, sim_clock):
    token = (await _stable_token(sim))["access_token"]
    code = await _phone_code(sim)
    answer = await _phone(sim, token, {"code": code})
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok"
    info = answer["phone_info"]
    assert (info["phoneNumber"], info["purePhoneNumber"], info["countryCode"]) == (
        "13800138000",
        "13800138000",
        "86",
    )
    assert info["watermark"] == {"timestamp": int(sim_clock().timestamp()), "appid": APPID}
    assert (await _phone(sim, token, {"code": code}))["errcode"] == 40163


async def test_phone_codes_expire_and_login_codes_are_not_phone_codes(sim, sim_clock):
    token = (await _stable_token(sim))["access_token"]
    assert (await _phone(sim, token, {"code": await _login_code(sim)}))["errcode"] == 40029
    stale = await _phone_code(sim)
    sim_clock.advance(minutes=5)
    assert (await _phone(sim, token, {"code": stale}))["errcode"] == 40029
    assert (await _phone(sim, token, {}))["errcode"] == 41008


async def test_a_phone_code_checked_against_another_openid_is_refused_and_not_spent(sim):
    token = (await _stable_token(sim))["access_token"]
    bob = (await _control(sim, "/wx/login-code", {"user": "bob"}))["openid"]
    alice = (await _control(sim, "/wx/login-code", {"user": "alice"}))["openid"]
    code = await _phone_code(sim, "alice")
    assert (await _phone(sim, token, {"code": code, "openid": bob}))["errcode"] == 40029
    assert (await _phone(sim, token, {"code": code, "openid": alice}))["errcode"] == 0


async def test_the_phone_api_checks_its_access_token(sim, sim_clock):
    code = await _phone_code(sim)
    missing = await (await sim.post(PHONE_API, json={"code": code})).json()
    assert missing["errcode"] == 41001
    assert (await _phone(sim, "made-up", {"code": code}))["errcode"] == 40001
    token = (await _stable_token(sim))["access_token"]
    sim_clock.advance(hours=2)
    assert (await _phone(sim, token, {"code": code}))["errcode"] == 42001


async def test_expire_token_makes_the_current_token_expired(sim):
    token = (await _stable_token(sim))["access_token"]
    assert (await _control(sim, "/wx/expire-token", {"appid": APPID})) == {"expired": True}
    assert (await _phone(sim, token, {"code": await _phone_code(sim)}))["errcode"] == 42001
    assert (await _stable_token(sim))["access_token"] != token


# --- failures on demand, and a look inside -------------------------------------------------


async def test_faults_fail_the_next_calls_then_wechat_answers_again(sim):
    pending = await _control(sim, "/wx/faults", {"api": "jscode2session", "errcode": 40226, "times": 2})
    assert pending == {"pending": {"jscode2session": 2}}
    code = await _login_code(sim)
    assert (await _session(sim, code))["errcode"] == 40226
    assert (await _session(sim, code))["errcode"] == 40226
    assert "openid" in await _session(sim, code)  # the failures did not spend the code
    await _control(sim, "/wx/faults", {"api": "stable_token", "http_status": 502})
    assert (await sim.post("/cgi-bin/stable_token", json={})).status == 502
    state = await _state(sim)
    assert state["calls"] == {"jscode2session": 3, "stable_token": 1}
    assert state["faults"] == {}


async def test_faults_can_be_cleared(sim):
    await _control(sim, "/wx/faults", {"api": "getuserphonenumber", "errcode": -1, "times": 5})
    assert (await (await sim.delete("/wx/faults")).json()) == {"pending": {}}
    assert (await _state(sim))["faults"] == {}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/wx/login-code", b"not json"),
        ("/wx/login-code", b"[]"),
        ("/wx/login-code", b'{"user": ""}'),
        ("/wx/login-code", b'{"user": 7}'),
        ("/wx/login-code", b'{"user": "a b"}'),
        ("/wx/login-code", b'{"user": "alice", "appid": "wx-unknown"}'),
        ("/wx/login-code", b'{"user": "alice", "appid": ["x"]}'),
        ("/wx/phone-code", b'{"user": "a", "phone": "123"}'),
        ("/wx/phone-code", b'{"user": "a", "phone": 13800138000}'),
        ("/wx/expire-token", b'{"appid": "wx-unknown"}'),
        ("/wx/expire-token", b"nope"),
        ("/wx/faults", b'{"api": "nope", "errcode": -1}'),
        ("/wx/faults", b'{"api": "token"}'),
        ("/wx/faults", b'{"api": "token", "errcode": -1, "http_status": 502}'),
        ("/wx/faults", b'{"api": "token", "errcode": 0}'),
        ("/wx/faults", b'{"api": "token", "errcode": true}'),
        ("/wx/faults", b'{"api": "token", "http_status": 200}'),
        ("/wx/faults", b'{"api": "token", "errcode": -1, "times": 0}'),
        ("/wx/faults", b'{"api": "token", "errcode": -1, "times": 101}'),
    ],
)
async def test_control_endpoints_refuse_bad_input_with_400(sim, path, body):
    response = await sim.post(path, data=body)
    assert response.status == 400
    assert (await response.json())["error"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/sns/jscode2session", None),
        ("GET", "/sns/jscode2session?appid=%00&secret=%ff&js_code=%e4", None),
        ("POST", "/cgi-bin/stable_token", b"\xff\xfe"),
        ("POST", "/cgi-bin/stable_token", b'"a string"'),
        ("GET", "/cgi-bin/token", None),
        ("POST", PHONE_API + "?access_token=", b"{}"),
        ("POST", PHONE_API + "?access_token=x&access_token=y", b"[1]"),
    ],
)
async def test_wechat_endpoints_answer_nonsense_with_an_errcode(sim, method, path, body):
    response = await sim.request(method, path, data=body)
    assert response.status == 200
    assert json.loads(await response.text())["errcode"] != 0
