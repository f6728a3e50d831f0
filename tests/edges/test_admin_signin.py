"""Signing in to the admin web: CSRF on every form, throttled failures, sessions that end, and
roles enforced on the server whatever the page shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from commerce import clock
from commerce.merchants.services import ensure_merchant
from commerce.staff.models import StaffAccount
from commerce.staff.services import _hasher, create_platform_admin
from commerce.staff.states import StaffRole
from shop.app import create_app
from tests.builders import PASSWORD, csrf_of, sign_in


async def test_a_platform_admin_signs_in_and_out(client):
    await create_platform_admin(username="boss", password=PASSWORD)
    # not signed in: every page sends to the sign-in form
    first = await client.get("/admin/", allow_redirects=False)
    assert (first.status, first.headers["Location"]) == (302, "/admin/login")
    # when the admin signs in
    signed_in = await sign_in(client, "boss")
    assert (signed_in.status, signed_in.headers["Location"]) == (302, "/admin/")
    cookie = signed_in.cookies["admin_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/admin"
    # then the dashboard greets them with every section of the platform
    page = await client.get("/admin/")
    html = await page.text()
    assert page.status == 200 and "您好，boss" in html
    assert "商家管理" in html and "操作日志" in html and "社区团购" in html
    assert (
        page.headers["X-Frame-Options"] == "DENY"
        and "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    )
    # a form without the session's CSRF token is refused
    assert (await client.post("/admin/logout", data={}, allow_redirects=False)).status == 403
    out = await client.post("/admin/logout", data={"csrf_token": csrf_of(html)}, allow_redirects=False)
    assert (out.status, out.headers["Location"]) == (302, "/admin/login")
    assert (await client.get("/admin/", allow_redirects=False)).status == 302


async def test_the_sign_in_form_needs_its_csrf_token_and_the_right_password(client):
    await create_platform_admin(username="boss", password=PASSWORD)
    await client.get("/admin/login")
    no_token = await client.post("/admin/login", data={"username": "boss", "password": PASSWORD})
    assert no_token.status == 403
    wrong = await sign_in(client, "boss", "not-the-password")
    assert wrong.status == 401 and "用户名或密码错误" in await wrong.text()
    nobody = await sign_in(client, "nobody")
    assert nobody.status == 401 and "用户名或密码错误" in await nobody.text()


async def test_repeated_failures_from_one_address_make_it_wait_longer_each_time(client):
    await create_platform_admin(username="boss", password=PASSWORD)
    with clock.frozen(datetime(2026, 12, 1, 2, 0, tzinfo=UTC)) as frozen:
        # given five wrong passwords from this address
        for _ in range(5):
            assert (await sign_in(client, "boss", "guess-guess-guess")).status == 401
        # then even the right password waits a minute here
        locked = await sign_in(client, "boss")
        assert locked.status == 429 and "请 60 秒后再试" in await locked.text()
        # a minute later one more guess is checked, and the wait doubles
        frozen.advance(timedelta(seconds=61))
        assert (await sign_in(client, "boss", "guess-guess-guess")).status == 401
        frozen.advance(timedelta(seconds=61))
        assert (await sign_in(client, "boss")).status == 429
        frozen.advance(timedelta(seconds=60))
        # and once it is over, the right password signs in and the count starts again
        assert (await sign_in(client, "boss")).status == 302
        for _ in range(4):
            assert (await sign_in(client, "boss", "guess-guess-guess")).status == 401
        assert (await sign_in(client, "boss")).status == 302


async def test_a_stranger_cannot_lock_the_owner_out(
    aiohttp_client, wired_settings, empty_database, empty_redis
):
    # given the admin behind a reverse proxy; the owner signed in from the office once
    app = create_app(
        wired_settings.model_copy(update={"trusted_proxies": "127.0.0.1/32"}), mount_simulator=False
    )
    client = await aiohttp_client(app)
    await create_platform_admin(username="boss", password=PASSWORD)

    async def attempt(password: str, address: str):
        client.session.cookie_jar.clear()
        form = await (await client.get("/admin/login")).text()
        data = {"username": "boss", "password": password, "csrf_token": csrf_of(form)}
        headers = {"X-Forwarded-For": address}
        return (await client.post("/admin/login", data=data, headers=headers, allow_redirects=False)).status

    assert await attempt(PASSWORD, "10.0.0.2") == 302
    # when a stranger guesses boss's password again and again from one address
    stranger = [await attempt(f"guess-{n}-guess", "6.6.6.6") for n in range(12)]
    # then the stranger is slowed down (five guesses, then a wait)
    assert stranger == [401] * 5 + [429] * 7
    # and the owner signs in at once, from the office and from an address never seen before
    assert await attempt(PASSWORD, "10.0.0.2") == 302
    assert await attempt(PASSWORD, "10.0.0.3") == 302
    # when many addresses guess once each (more failures than the account's wider limit)
    spread = [await attempt("guess-guess-guess", f"7.7.{n // 200}.{n % 200}") for n in range(30)]
    assert spread == [401] * 30
    # then an address the account never signed in from gets one try a minute
    assert await attempt("guess-guess-guess", "7.7.0.29") == 429
    # while the owner still signs in from a known address, and from a new one at its first try
    assert await attempt(PASSWORD, "10.0.0.2") == 302
    assert await attempt(PASSWORD, "10.0.0.9") == 302


async def test_roles_are_enforced_on_the_server(client):
    merchant_id = await ensure_merchant()
    await StaffAccount.create(
        username="clerk",
        password_hash=_hasher.hash(PASSWORD),
        role=StaffRole.MERCHANT_STAFF,
        merchant_id=merchant_id,
    )
    assert (await sign_in(client, "clerk")).status == 302
    html = await (await client.get("/admin/")).text()
    assert "商品" in html and "商家管理" not in html and "财务结算" not in html
    # a direct URL to what the role may not see is a 403, not a hidden link
    for path in ("/admin/merchants", "/admin/finance", "/admin/audit", "/admin/support"):
        response = await client.get(path)
        assert response.status == 403, path
        assert "没有权限" in await response.text()
    assert (await client.get("/admin/products")).status == 200
    assert (await client.get("/admin/no-such-page")).status == 404


async def test_a_deactivated_account_loses_its_session(client):
    await create_platform_admin(username="boss", password=PASSWORD)
    assert (await sign_in(client, "boss")).status == 302
    await StaffAccount.filter(username="boss").update(is_active=False)
    assert (await client.get("/admin/", allow_redirects=False)).status == 302
    assert (await sign_in(client, "boss")).status == 401


async def test_parallel_guesses_cannot_outrun_the_lock(client):
    import asyncio

    await create_platform_admin(username="boss", password=PASSWORD)
    form = await (await client.get("/admin/login")).text()
    data = {"username": "boss", "password": "guess-guess-guess", "csrf_token": csrf_of(form)}
    # twenty guesses at the same moment: only the first five are even checked
    statuses = await asyncio.gather(*(client.post("/admin/login", data=data) for _ in range(20)))
    assert sorted(r.status for r in statuses) == [401] * 5 + [429] * 15


async def test_behind_a_trusted_proxy_each_client_is_throttled_by_its_own_address(
    aiohttp_client, wired_settings, empty_database, empty_redis
):
    # given the admin behind a reverse proxy on this machine (the test client's address)
    app = create_app(
        wired_settings.model_copy(update={"trusted_proxies": "127.0.0.1/32"}), mount_simulator=False
    )
    client = await aiohttp_client(app)
    await create_platform_admin(username="boss", password=PASSWORD)

    async def attempt(username: str, password: str, forwarded: str):
        form = await (await client.get("/admin/login")).text()
        data = {"username": username, "password": password, "csrf_token": csrf_of(form)}
        headers = {"X-Forwarded-For": forwarded}
        return await client.post("/admin/login", data=data, headers=headers, allow_redirects=False)

    # when one client guesses at many accounts (the proxy appends the address it saw)
    for n in range(20):
        assert (await attempt(f"user-{n}", "wrong", "6.6.6.6, 10.0.0.1")).status == 401
    # then that client is stopped, whatever it claims in the header itself
    assert (await attempt("boss", PASSWORD, "1.2.3.4, 10.0.0.1")).status == 429
    # and a colleague behind the same proxy still signs in
    assert (await attempt("boss", PASSWORD, "10.0.0.2")).status == 302


async def test_without_a_trusted_proxy_a_forwarded_address_is_not_believed(client):
    await create_platform_admin(username="boss", password=PASSWORD)
    for n in range(20):
        form = await (await client.get("/admin/login")).text()
        data = {"username": f"user-{n}", "password": "wrong", "csrf_token": csrf_of(form)}
        await client.post("/admin/login", data=data, headers={"X-Forwarded-For": f"10.9.0.{n}"})
    # every guess came from the same peer: it is throttled, made-up headers notwithstanding
    form = await (await client.get("/admin/login")).text()
    data = {"username": "boss", "password": PASSWORD, "csrf_token": csrf_of(form)}
    late = await client.post("/admin/login", data=data, headers={"X-Forwarded-For": "10.9.9.9"})
    assert late.status == 429


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",  # no boundary
        "multipart/form-data; boundary=zz",
        "application/x-www-form-urlencoded; charset=bogus",
    ],
)
async def test_a_body_that_is_no_form_is_a_400_not_a_crash(client, content_type):
    await create_platform_admin(username="boss", password=PASSWORD)
    body = b"garbage\r\n--not-a-part"
    refused = await client.post("/admin/login", data=body, headers={"Content-Type": content_type})
    assert refused.status == 400
    await sign_in(client, "boss")
    refused = await client.post("/admin/logout", data=body, headers={"Content-Type": content_type})
    assert refused.status == 400
