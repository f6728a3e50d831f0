"""Staff look shoppers up masked; a full phone number is an explicit, recorded action that
only some roles may take."""

from __future__ import annotations

from commerce.audit.models import AuditEntry
from commerce.merchants.services import ensure_merchant
from commerce.orders.models import Order
from commerce.staff.models import StaffAccount
from commerce.staff.services import _hasher, create_platform_admin
from commerce.staff.states import StaffRole
from commerce.users.models import User
from tests.builders import PASSWORD, add_staff, csrf_of, paid_order, sign_in
from tests.edges.shoppers import log_in


async def _shopper_with_phone(client, simulator) -> int:
    login = await log_in(client, simulator, "alice")
    await User.filter(id=login["user"]["id"]).update(phone="13800138000", nickname="<i>小爱</i>")
    return login["user"]["id"]


async def test_an_admin_finds_a_shopper_masked_and_reveals_the_phone_on_purpose(client, simulator):
    user_id = await _shopper_with_phone(client, simulator)
    await create_platform_admin(username="boss", password=PASSWORD)
    await sign_in(client, "boss")
    # search by the masked phone, by its last four digits, by nickname
    for query in ("138****8000", "8000", "小爱"):
        html = await (await client.get("/admin/users", params={"q": query})).text()
        assert f"/admin/users/{user_id}" in html and "138****8000" in html, query
        assert "13800138000" not in html and "&lt;i&gt;小爱&lt;/i&gt;" in html
    profile = await (await client.get(f"/admin/users/{user_id}")).text()
    assert "13800138000" not in profile
    # when the admin asks to see the number
    revealed = await client.post(
        f"/admin/users/{user_id}/reveal-phone", data={"csrf_token": csrf_of(profile)}
    )
    # then it is shown, and the look is in the audit log
    assert revealed.status == 200 and "13800138000" in await revealed.text()
    assert await AuditEntry.filter(action="user.reveal_phone", object_id=str(user_id)).count() == 1


async def test_an_agent_sees_shoppers_masked_and_cannot_reveal(client, simulator):
    user_id = await _shopper_with_phone(client, simulator)
    await StaffAccount.create(username="agent-1", password_hash=_hasher.hash(PASSWORD), role=StaffRole.AGENT)
    await sign_in(client, "agent-1")
    profile = await (await client.get(f"/admin/users/{user_id}")).text()
    assert "138****8000" in profile and "查看完整号码" not in profile
    refused = await client.post(f"/admin/users/{user_id}/reveal-phone", data={"csrf_token": csrf_of(profile)})
    assert refused.status == 403 and "13800138000" not in await refused.text()
    assert await AuditEntry.filter(action="user.reveal_phone").count() == 0
    assert (await client.get("/admin/users/999999")).status == 404


async def test_a_shoppers_profile_lists_their_orders(client, simulator):
    # given alice with a paid order
    alice = await paid_order(client, simulator)
    await create_platform_admin(username="boss", password=PASSWORD)
    await sign_in(client, "boss")
    user_id = (await Order.get(id=alice["id"])).user_id
    # when the admin opens alice's profile
    profile = await (await client.get(f"/admin/users/{user_id}")).text()
    # then her order is there with its status and amount, linking to the order page
    assert f"/admin/orders/{alice['id']}" in profile and alice["order_no"] in profile
    assert "待发货" in profile and "共 1 笔" in profile


async def test_a_merchant_looks_up_only_its_own_customers(client, simulator):
    # given alice, who bought the platform shop's earbuds, and bob, who never bought from it
    alice = await paid_order(client, simulator)
    alice_id = (await Order.get(id=alice["id"])).user_id
    bob = (await log_in(client, simulator, "bob"))["user"]["id"]
    await User.filter(id__in=[alice_id, bob]).update(nickname="顾客")
    other = await ensure_merchant(code="other", name="别家")
    await add_staff("own-owner", StaffRole.MERCHANT_OWNER, await ensure_merchant())
    await add_staff("other-owner", StaffRole.MERCHANT_OWNER, other)
    # when the shop's owner searches its customers
    await sign_in(client, "own-owner")
    found = await (await client.get("/admin/users", params={"q": "顾客"})).text()
    # then only alice is there; bob's profile is not found, even by URL or a reveal
    assert f"/admin/users/{alice_id}" in found and f"/admin/users/{bob}" not in found
    profile = await (await client.get(f"/admin/users/{alice_id}")).text()
    assert alice["order_no"] in profile
    assert (await client.get(f"/admin/users/{bob}")).status == 404
    peek = await client.post(f"/admin/users/{bob}/reveal-phone", data={"csrf_token": csrf_of(profile)})
    assert peek.status == 404
    # and another merchant sees neither
    await client.post("/admin/logout", data={"csrf_token": csrf_of(profile)})
    await sign_in(client, "other-owner")
    assert "/admin/users/" not in await (await client.get("/admin/users", params={"q": "顾客"})).text()
    assert (await client.get(f"/admin/users/{alice_id}")).status == 404
