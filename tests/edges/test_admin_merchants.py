"""The platform admin makes merchants and their accounts; nobody else can, by page or by form;
every change is in the audit log; what people typed is shown escaped."""

from __future__ import annotations

from commerce.audit.models import AuditEntry
from commerce.audit.services import record
from commerce.catalog.models import Product, Sku
from commerce.merchants.models import Merchant
from commerce.merchants.services import ensure_merchant
from commerce.staff.models import StaffAccount
from commerce.staff.services import _hasher, create_platform_admin
from commerce.staff.states import StaffRole
from tests.builders import PASSWORD, csrf_of, sign_in
from tests.edges.shoppers import auth_headers
from tests.factories import seed_small_catalog


async def _page(client, path: str) -> tuple[int, str]:
    response = await client.get(path)
    return response.status, await response.text()


async def _post(client, path: str, data: dict, csrf_from: str = "/admin/"):
    _, html = await _page(client, csrf_from)
    return await client.post(path, data={**data, "csrf_token": csrf_of(html)}, allow_redirects=False)


async def test_the_platform_admin_creates_a_merchant_and_its_owner(client):
    await create_platform_admin(username="boss", password=PASSWORD)
    await sign_in(client, "boss")
    # when the admin creates a merchant (with markup in its name) and its owner's account
    made = await _post(
        client,
        "/admin/merchants",
        {
            "code": "fresh-fruit",
            "name": "<script>alert(1)</script>鲜果铺",
            "contact_name": "王五",
            "contact_phone": "13900139000",
        },
    )
    assert made.status == 302
    merchant = await Merchant.get(code="fresh-fruit")
    assert made.headers["Location"] == f"/admin/merchants/{merchant.id}"
    owner = await _post(
        client,
        f"/admin/merchants/{merchant.id}/staff",
        {"username": "fruit-owner", "password": PASSWORD, "role": "merchant_owner"},
    )
    assert owner.status == 302
    # then the account belongs to that merchant, and the pages show the name escaped
    account = await StaffAccount.get(username="fruit-owner")
    assert (account.role, account.merchant_id) == ("merchant_owner", merchant.id)
    status, html = await _page(client, "/admin/merchants")
    assert (
        status == 200
        and "&lt;script&gt;alert(1)&lt;/script&gt;鲜果铺" in html
        and "<script>alert" not in html
    )
    # and both changes are in the audit log, searchable, without the password
    actions = await AuditEntry.all().order_by("id").values_list("action", "actor")
    admin_id = (await StaffAccount.get(username="boss")).id
    assert actions == [
        ("staff.create", "cli"),  # the first admin, made from the command line
        ("merchant.create", f"staff:{admin_id}"),
        ("staff.create", f"staff:{admin_id}"),
    ]
    _, log = await _page(client, "/admin/audit?q=fruit-owner")
    assert "staff.create" in log and "merchant.create" not in log
    assert PASSWORD not in str(await AuditEntry.all().values_list("after", flat=True))


async def test_bad_merchant_input_is_refused_clearly(client):
    await create_platform_admin(username="boss", password=PASSWORD)
    await sign_in(client, "boss")
    for data in (
        {"code": "X", "name": "n"},
        {"code": "ok-code", "name": ""},
        {"code": "ok-code", "name": "n", "contact_phone": "123"},
    ):
        response = await _post(client, "/admin/merchants", data)
        assert response.status == 400, data
    await _post(client, "/admin/merchants", {"code": "dup", "name": "甲"})
    again = await _post(client, "/admin/merchants", {"code": "dup", "name": "乙"})
    assert again.status == 400 and "商家编码已被使用" in await again.text()
    merchant = await Merchant.get(code="dup")
    # a platform role cannot be made here by tampering with the form
    tampered = await _post(
        client,
        f"/admin/merchants/{merchant.id}/staff",
        {"username": "sneaky", "password": PASSWORD, "role": "platform_admin"},
    )
    assert tampered.status == 403 and not await StaffAccount.exists(username="sneaky")
    assert (await _page(client, "/admin/merchants/999999"))[0] == 404


async def test_a_merchant_owner_cannot_manage_merchants(client):
    await create_platform_admin(username="boss", password=PASSWORD)
    await sign_in(client, "boss")
    await _post(client, "/admin/merchants", {"code": "shop-a", "name": "甲店"})
    merchant = await Merchant.get(code="shop-a")
    await _post(
        client,
        f"/admin/merchants/{merchant.id}/staff",
        {"username": "owner-a", "password": PASSWORD, "role": "merchant_owner"},
    )
    _, html = await _page(client, "/admin/")
    await client.post("/admin/logout", data={"csrf_token": csrf_of(html)})
    # when the owner signs in
    assert (await sign_in(client, "owner-a")).status == 302
    # then the merchant and audit pages and their forms are refused
    for path in ("/admin/merchants", f"/admin/merchants/{merchant.id}", "/admin/audit"):
        assert (await _page(client, path))[0] == 403, path
    forged = await _post(
        client,
        f"/admin/merchants/{merchant.id}/staff",
        {"username": "owner-b", "password": PASSWORD, "role": "merchant_staff"},
    )
    assert forged.status == 403 and not await StaffAccount.exists(username="owner-b")


async def test_suspending_a_merchant_hides_its_products_until_it_trades_again(client, simulator):
    # given the small catalog (the platform's own merchant) and a shopper with a product in view
    await seed_small_catalog()
    await create_platform_admin(username="boss", password=PASSWORD)
    shopper = await auth_headers(client, simulator, "alice")
    buds = await Sku.get(sku_code="P2-W")
    merchant_id = (await Product.get(id=buds.product_id)).merchant_id
    assert await _found(client, "耳机") == [buds.product_id]
    await sign_in(client, "boss")
    # a suspension needs a reason
    refused = await _post(
        client, f"/admin/merchants/{merchant_id}/status", {"status": "suspended", "reason": " "}
    )
    assert refused.status == 400 and "暂停原因" in await refused.text()
    # when the platform suspends the merchant
    suspended = await _post(
        client, f"/admin/merchants/{merchant_id}/status", {"status": "suspended", "reason": "资质过期"}
    )
    assert suspended.status == 302
    # then its products leave search and their pages, and cannot be put in a cart
    assert await _found(client, "耳机") == []
    assert (await client.get(f"/api/v1/products/{buds.product_id}")).status == 404
    added = await client.post("/api/v1/cart/items", json={"sku_id": buds.id, "quantity": 1}, headers=shopper)
    assert (added.status, (await added.json())["error"]["code"]) == (409, "not_on_sale")
    _, page = await _page(client, f"/admin/merchants/{merchant_id}")
    assert "已暂停" in page and "恢复营业" in page
    entry = await AuditEntry.get(action="merchant.status")
    assert entry.after["reason"] == "资质过期" and entry.before == {"status": "active"}
    # when it trades again, everything is back
    resumed = await _post(client, f"/admin/merchants/{merchant_id}/status", {"status": "active"})
    assert resumed.status == 302
    assert await _found(client, "耳机") == [buds.product_id]
    added = await client.post("/api/v1/cart/items", json={"sku_id": buds.id, "quantity": 1}, headers=shopper)
    assert added.status == 200


async def test_only_the_platform_changes_a_merchants_status(client):
    merchant_id = await ensure_merchant(code="shop-b", name="B 店")
    await StaffAccount.create(
        username="owner-b",
        password_hash=_hasher.hash(PASSWORD),
        role=StaffRole.MERCHANT_OWNER,
        merchant_id=merchant_id,
    )
    await sign_in(client, "owner-b")
    tried = await _post(
        client, f"/admin/merchants/{merchant_id}/status", {"status": "suspended", "reason": "x"}
    )
    assert tried.status == 403
    assert (await Merchant.get(id=merchant_id)).status == "active"


async def _found(client, text: str) -> list[int]:
    body = await (await client.get("/api/v1/products", params={"q": text})).json()
    return [item["id"] for item in body["items"]]


async def test_the_audit_log_pages_back_through_every_change(client):
    # given 55 recorded changes (a page holds 50)
    for n in range(55):
        await record(
            actor="staff:1", action="test.change", object_type="thing", object_id=n, summary=f"第{n}号改动"
        )
    await create_platform_admin(username="boss", password=PASSWORD)
    await sign_in(client, "boss")
    # then the first page has the newest 50 and the second the oldest ones, search kept
    first = await (await client.get("/admin/audit", params={"q": "test.change"})).text()
    assert "第 1 / 2 页" in first and "第54号改动" in first and "第4号改动" not in first
    second = await (await client.get("/admin/audit", params={"q": "test.change", "page": "2"})).text()
    assert "第 2 / 2 页" in second and "第4号改动" in second and "第54号改动" not in second
