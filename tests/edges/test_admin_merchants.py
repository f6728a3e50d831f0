"""The platform admin makes merchants and their accounts; nobody else can, by page or by form;
every change is in the audit log; what people typed is shown escaped."""

from __future__ import annotations

from commerce.audit.models import AuditEntry
from commerce.merchants.models import Merchant
from commerce.staff.models import StaffAccount
from commerce.staff.services import create_platform_admin
from tests.edges.test_admin_signin import PASSWORD, _csrf, _sign_in


async def _page(client, path: str) -> tuple[int, str]:
    response = await client.get(path)
    return response.status, await response.text()


async def _post(client, path: str, data: dict, csrf_from: str = "/admin/"):
    _, html = await _page(client, csrf_from)
    return await client.post(path, data={**data, "csrf_token": _csrf(html)}, allow_redirects=False)


async def test_the_platform_admin_creates_a_merchant_and_its_owner(client):
    await create_platform_admin(username="boss", password=PASSWORD)
    await _sign_in(client, "boss")
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
    assert actions == [("merchant.create", f"staff:{admin_id}"), ("staff.create", f"staff:{admin_id}")]
    _, log = await _page(client, "/admin/audit?q=fruit-owner")
    assert "staff.create" in log and "merchant.create" not in log
    assert PASSWORD not in str(await AuditEntry.all().values_list("after", flat=True))


async def test_bad_merchant_input_is_refused_clearly(client):
    await create_platform_admin(username="boss", password=PASSWORD)
    await _sign_in(client, "boss")
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
    await _sign_in(client, "boss")
    await _post(client, "/admin/merchants", {"code": "shop-a", "name": "甲店"})
    merchant = await Merchant.get(code="shop-a")
    await _post(
        client,
        f"/admin/merchants/{merchant.id}/staff",
        {"username": "owner-a", "password": PASSWORD, "role": "merchant_owner"},
    )
    _, html = await _page(client, "/admin/")
    await client.post("/admin/logout", data={"csrf_token": _csrf(html)})
    # when the owner signs in
    assert (await _sign_in(client, "owner-a")).status == 302
    # then the merchant and audit pages and their forms are refused
    for path in ("/admin/merchants", f"/admin/merchants/{merchant.id}", "/admin/audit"):
        assert (await _page(client, path))[0] == 403, path
    forged = await _post(
        client,
        f"/admin/merchants/{merchant.id}/staff",
        {"username": "owner-b", "password": PASSWORD, "role": "merchant_staff"},
    )
    assert forged.status == 403 and not await StaffAccount.exists(username="owner-b")
