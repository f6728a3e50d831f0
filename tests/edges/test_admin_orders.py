"""Orders in the admin web: staff see what their role allows, merchants only their own, and
shipping from the page is the core's shipping (WeChat hears of it), recorded in the audit log."""

from __future__ import annotations

import uuid

from commerce.audit.models import AuditEntry
from commerce.catalog.models import Product, Sku
from commerce.merchants.services import ensure_merchant
from commerce.orders.models import Order, OrderEvent
from commerce.staff.models import StaffAccount
from commerce.staff.services import _hasher, create_platform_admin
from commerce.staff.states import StaffRole
from tests.edges.paying import pay_order, sim
from tests.edges.shoppers import auth_headers
from tests.edges.test_admin_signin import PASSWORD, _csrf, _sign_in
from tests.edges.test_shopping_api import ADDRESS
from tests.factories import seed_small_catalog


async def _paid_order(client, simulator) -> dict:
    await seed_small_catalog()
    headers = await auth_headers(client, simulator, "alice")
    address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
    sku = await Sku.get(sku_code="P2-W")
    body = {"items": [{"sku_id": sku.id, "quantity": 1}], "address_id": address["id"]}
    order = await (
        await client.post(
            "/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
        )
    ).json()
    paid = await pay_order(client, simulator, headers, order["id"])
    return {**order, "transaction_id": paid["transaction_id"]}


async def _staff(username: str, role: StaffRole, merchant_id: int | None = None) -> None:
    await StaffAccount.create(
        username=username, password_hash=_hasher.hash(PASSWORD), role=role, merchant_id=merchant_id
    )


async def test_the_platform_ships_a_paid_order_from_its_page(client, simulator):
    order = await _paid_order(client, simulator)
    await create_platform_admin(username="boss", password=PASSWORD)
    await _sign_in(client, "boss")
    listed = await (await client.get("/admin/orders", params={"status": "paid"})).text()
    assert order["order_no"] in listed
    page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    assert "13800138000" in page and "发货" in page  # the platform may see the full address
    # when the admin ships it
    shipped = await client.post(
        f"/admin/orders/{order['id']}/ship",
        data={"carrier": "顺丰速运", "tracking_no": "SF1234567890", "csrf_token": _csrf(page)},
        allow_redirects=False,
    )
    # then the order is shipped by them, WeChat has the shipment, and the audit log has it
    assert shipped.status == 302
    assert (await Order.get(id=order["id"])).status == "shipped"
    admin = await StaffAccount.get(username="boss")
    assert await OrderEvent.filter(
        order_id=order["id"], to_status="shipped", actor=f"staff:{admin.id}"
    ).exists()
    _, state = await sim(simulator, "GET", "/pay/state")
    assert state["shipping"][order["transaction_id"]][0]["shipping_list"][0]["tracking_no"] == "SF1234567890"
    assert await AuditEntry.filter(action="order.ship", object_id=str(order["id"])).exists()
    # a bad tracking number is refused clearly
    again = await client.post(
        f"/admin/orders/{order['id']}/ship",
        data={"carrier": "顺丰速运", "tracking_no": "SF1234567890", "csrf_token": _csrf(page)},
    )
    assert again.status == 409


async def test_an_agent_sees_orders_masked_and_cannot_ship(client, simulator):
    order = await _paid_order(client, simulator)
    await _staff("agent-1", StaffRole.AGENT)
    await _sign_in(client, "agent-1")
    page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    assert "138****8000" in page and "13800138000" not in page and "科技园" not in page
    assert 'action="/admin/orders/' not in page  # no ship form
    refused = await client.post(
        f"/admin/orders/{order['id']}/ship",
        data={"carrier": "顺丰速运", "tracking_no": "SF1234567890", "csrf_token": _csrf(page)},
    )
    assert refused.status == 403 and (await Order.get(id=order["id"])).status == "paid"


async def test_a_merchant_sees_only_orders_of_its_products(client, simulator):
    order = await _paid_order(client, simulator)
    other = await ensure_merchant(code="other", name="别家")
    own = await ensure_merchant()  # the demo products belong to the platform's own shop
    await _staff("other-owner", StaffRole.MERCHANT_OWNER, other)
    await _staff("own-clerk", StaffRole.MERCHANT_STAFF, own)
    await _sign_in(client, "other-owner")
    assert order["order_no"] not in await (await client.get("/admin/orders")).text()
    assert (await client.get(f"/admin/orders/{order['id']}")).status == 404
    page = await (await client.get("/admin/")).text()
    forged = await client.post(
        f"/admin/orders/{order['id']}/ship",
        data={"carrier": "顺丰速运", "tracking_no": "SF1234567890", "csrf_token": _csrf(page)},
    )
    assert forged.status == 404 and (await Order.get(id=order["id"])).status == "paid"
    await client.post("/admin/logout", data={"csrf_token": _csrf(page)})
    # the merchant whose product it is ships it
    await _sign_in(client, "own-clerk")
    page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    shipped = await client.post(
        f"/admin/orders/{order['id']}/ship",
        data={"carrier": "中通快递", "tracking_no": "ZT1234567890", "csrf_token": _csrf(page)},
        allow_redirects=False,
    )
    assert shipped.status == 302 and (await Order.get(id=order["id"])).status == "shipped"
    assert (await Product.filter(merchant_id=own).count()) > 0
