"""Staff sign-in behind proxies and over IPv6, and accounts of a role that does not fit: the
throttle counts each client by the address the last trusted proxy saw (skipping our own proxies;
an IPv6 client by its /64, which one machine holds whole), and an account's role must match
whether it belongs to a merchant."""

from __future__ import annotations

import pytest

from commerce.errors import CommerceError
from commerce.merchants.services import ensure_merchant
from commerce.staff.models import StaffAccount
from commerce.staff.services import create_first_account, create_platform_admin, create_staff
from commerce.staff.states import StaffRole
from shop.app import create_app
from tests.builders import PASSWORD, csrf_of

# Two proxies in front of the admin: a load balancer (10.0.0.0/8) and one on this machine.
PROXIES = "127.0.0.1/32, 10.0.0.0/8"


@pytest.fixture
async def proxied(aiohttp_client, wired_settings, empty_database, empty_redis):
    app = create_app(wired_settings.model_copy(update={"trusted_proxies": PROXIES}), mount_simulator=False)
    client = await aiohttp_client(app)
    await create_platform_admin(username="boss", password=PASSWORD)
    return client


async def _attempt(client, password: str, forwarded: str | None):
    form = await (await client.get("/admin/login")).text()
    data = {"username": "boss", "password": password, "csrf_token": csrf_of(form)}
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return await client.post("/admin/login", data=data, headers=headers, allow_redirects=False)


async def test_an_ipv6_client_is_throttled_by_its_64_behind_a_chain_of_trusted_proxies(proxied):
    # given five wrong passwords from one IPv6 machine, through the load balancer
    for _ in range(5):
        assert (await _attempt(proxied, "wrong-password", "2001:db8:0:1::1, 10.0.0.1")).status == 401
    # then another address of the same /64 waits too, even with the right password
    same_network = await _attempt(proxied, PASSWORD, "2001:db8:0:1::ffff, 10.0.0.1")
    assert same_network.status == 429 and "后再试" in await same_network.text()
    # while a client on another /64 signs in
    other = await _attempt(proxied, PASSWORD, "2001:db8:0:2::1, 10.0.0.1")
    assert (other.status, other.headers["Location"]) == (302, "/admin/")


async def test_a_forwarded_chain_of_only_our_proxies_counts_as_the_proxy_itself(proxied):
    # given five wrong passwords whose header names only our own load balancer
    for _ in range(5):
        assert (await _attempt(proxied, "wrong-password", "10.0.0.7")).status == 401
    # then they were counted against the address that reached us: a request from it with no
    # header waits
    assert (await _attempt(proxied, PASSWORD, None)).status == 429
    # and a client the load balancer names is not slowed by them
    assert (await _attempt(proxied, PASSWORD, "198.51.100.1, 10.0.0.7")).status == 302


async def test_an_account_whose_role_does_not_fit_its_merchant_is_not_made(db):
    shop = await ensure_merchant(code="shop-a", name="甲店")
    attempts = [
        create_first_account(username="first-owner", password=PASSWORD, role=StaffRole.MERCHANT_OWNER),
        create_staff(
            username="agent-of-a", password=PASSWORD, role=StaffRole.AGENT, merchant_id=shop, actor="cli"
        ),
        create_staff(
            username="loose-clerk",
            password=PASSWORD,
            role=StaffRole.MERCHANT_STAFF,
            merchant_id=None,
            actor="cli",
        ),
    ]
    for attempt in attempts:
        with pytest.raises(CommerceError) as refused:
            await attempt
        assert refused.value.code == "role_mismatch"
    assert await StaffAccount.all().count() == 0
