"""The dashboard's figures are right: a known set of orders across days and merchants, paid,
shipped and refunded, and every number the page shows, for the platform and for one merchant."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from commerce import clock
from commerce.catalog.models import Product, Sku
from commerce.merchants.services import ensure_merchant
from commerce.orders.models import Order
from commerce.staff.models import StaffAccount
from commerce.staff.services import _hasher, create_platform_admin
from commerce.staff.states import StaffRole
from tests.builders import PASSWORD, add_staff, csrf_of, shipped_order, sign_in, signed_in
from tests.edges.aftersale_steps import ask, press
from tests.edges.community import LEADER_APPLICATION
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import seed_small_catalog
from tests.kol_commission_builders import flagged_kol

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


async def _order(client, headers, address_id, sku_code, quantity, *, paid_at, status) -> dict:
    sku = await Sku.get(sku_code=sku_code)
    body = {"items": [{"sku_id": sku.id, "quantity": quantity}], "address_id": address_id}
    response = await client.post(
        "/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    order = await response.json()
    if paid_at is not None:  # as WeChat Pay (and a whole refund, for a closed one) would have left it
        refunded = order["payable"] if status == "closed" else 0
        await Order.filter(id=order["id"]).update(paid_at=paid_at, status=status, refunded=refunded)
    return order


def _figures(html: str) -> list[str]:
    return re.findall(r'data-figure="([a-z-]+)">([^<]+)<', html)


async def test_the_dashboard_counts_what_was_paid_for_the_platform_and_for_a_merchant(client, simulator):
    await seed_small_catalog()
    fruit = await ensure_merchant(code="fruit", name="鲜果铺")
    buds = await Sku.get(sku_code="P2-W")  # 799.00, the platform's own
    phone = await Sku.filter(product__title__contains="iPhone").first()
    await Product.filter(id=phone.product_id).update(merchant_id=fruit)  # this product is the fruit shop's
    alice = await auth_headers(client, simulator, "alice")
    bob = await auth_headers(client, simulator, "bob")
    a_addr = (await (await client.post("/api/v1/addresses", json=ADDRESS, headers=alice)).json())["id"]
    b_addr = (await (await client.post("/api/v1/addresses", json=ADDRESS, headers=bob)).json())["id"]
    today = NOW - timedelta(hours=1)
    o1 = await _order(client, alice, a_addr, "P2-W", 1, paid_at=today, status="paid")
    o2 = await _order(client, bob, b_addr, phone.sku_code, 1, paid_at=today, status="closed")
    o3 = await _order(client, alice, a_addr, "P2-W", 2, paid_at=NOW - timedelta(days=3), status="completed")
    await _order(client, alice, a_addr, "P2-W", 1, paid_at=NOW - timedelta(days=40), status="completed")
    await _order(client, alice, a_addr, "P2-W", 1, paid_at=None, status="pending_payment")
    await create_platform_admin(username="boss", password=PASSWORD)
    await StaffAccount.create(
        username="fruit-owner",
        password_hash=_hasher.hash(PASSWORD),
        role=StaffRole.MERCHANT_OWNER,
        merchant_id=fruit,
    )

    def yuan(fen: int) -> str:
        return f"¥{fen // 100}.{fen % 100:02d}"

    with clock.frozen(NOW):
        await sign_in(client, "boss")
        platform = await (await client.get("/admin/")).text()
        await client.post("/admin/logout", data={"csrf_token": csrf_of(platform)})
        await sign_in(client, "fruit-owner")
        merchant = await (await client.get("/admin/")).text()
    # the platform: today o1 + o2 (two shoppers, one refunded), 30 days adds o3; o4 is older
    today_gmv = o1["payable"] + o2["payable"]
    month_gmv = today_gmv + o3["payable"]
    assert _figures(platform) == [
        ("gmv", yuan(today_gmv)),
        ("orders", "2"),
        ("aov", yuan(today_gmv // 2)),
        ("users", "2"),
        ("refund-rate", "50.0%"),
        ("gmv", yuan(month_gmv)),
        ("orders", "3"),
        ("aov", yuan(month_gmv // 3)),
        ("users", "2"),
        ("refund-rate", "33.3%"),
        ("to-ship", "1"),
        ("waiting", "0"),
        ("aftersales-requested", "0"),
        ("aftersales-awaiting-return", "0"),
        ("aftersales-returning", "0"),
        ("aftersales-refunding", "0"),
        ("leader-applications", "0"),
        ("kol-applications", "0"),
        ("kol-flags", "0"),
    ]
    # the fruit shop: only its own line (without shipping), its one refunded order
    line = o2["lines"][0]["payable"]
    assert _figures(merchant) == [
        ("gmv", yuan(line)),
        ("orders", "1"),
        ("aov", yuan(line)),
        ("users", "1"),
        ("refund-rate", "100.0%"),
        ("gmv", yuan(line)),
        ("orders", "1"),
        ("aov", yuan(line)),
        ("users", "1"),
        ("refund-rate", "100.0%"),
        ("to-ship", "0"),
        ("aftersales-requested", "0"),
        ("aftersales-awaiting-return", "0"),
        ("aftersales-returning", "0"),
        ("aftersales-refunding", "0"),
    ]
    assert buds.product_id != phone.product_id


async def test_the_dashboard_counts_open_after_sales_requests_by_state(client, simulator):
    # given two shipped orders of the platform's shop: one request waits, one is being returned
    waiting, returning = (
        await shipped_order(client, simulator),
        await shipped_order(client, simulator, user="bob"),
    )
    await ask(client, waiting)
    back = await ask(client, returning, kind="return_refund")
    await create_platform_admin(username="boss", password=PASSWORD)
    await signed_in(client, "boss")
    assert (await press(client, back["id"], "approve")).status == 302
    other = await ensure_merchant(code="other", name="别家")
    await add_staff("other-owner", StaffRole.MERCHANT_OWNER, other)
    # then the platform sees one waiting for review and one waiting for the goods, each linked
    home = await (await client.get("/admin/")).text()
    figures = dict(_figures(home))
    assert (figures["aftersales-requested"], figures["aftersales-awaiting-return"]) == ("1", "1")
    assert 'href="/admin/aftersales?status=requested"' in home
    # and another merchant sees none of them
    await signed_in(client, "other-owner")
    figures = dict(_figures(await (await client.get("/admin/")).text()))
    assert (figures["aftersales-requested"], figures["aftersales-awaiting-return"]) == ("0", "0")


async def test_the_platform_sees_the_reviews_waiting_and_a_merchant_does_not(client, simulator, settings):
    # given a leader application, a KOL application and a KOL flagged for review
    carol = await auth_headers(client, simulator, "carol")
    applied = await client.post("/api/v1/leader/application", json=LEADER_APPLICATION, headers=carol)
    assert applied.status == 200, await applied.text()
    dave = await auth_headers(client, simulator, "dave")
    kol = {"name": "林小美", "phone": "13912345678", "intro": "小红书美妆博主"}
    assert (await client.post("/api/v1/kol/application", json=kol, headers=dave)).status == 200
    await flagged_kol(client, simulator, settings)
    await create_platform_admin(username="boss", password=PASSWORD)
    await add_staff("shop-owner", StaffRole.MERCHANT_OWNER, await ensure_merchant(code="m", name="某店"))
    # when the platform admin opens the dashboard
    await signed_in(client, "boss")
    home = await (await client.get("/admin/")).text()
    # then each waiting review is counted, linked to where it is made
    figures = dict(_figures(home))
    assert (figures["leader-applications"], figures["kol-applications"], figures["kol-flags"]) == (
        "1",
        "1",
        "1",
    )
    for link in ("/admin/leaders", "/admin/kols?status=applied", "/admin/kol-flags?status=open"):
        assert f'href="{link}"' in home
    # and a merchant's owner, who reviews none of them, sees none of them
    await signed_in(client, "shop-owner")
    figures = dict(_figures(await (await client.get("/admin/")).text()))
    assert not {"leader-applications", "kol-applications", "kol-flags"} & figures.keys()
