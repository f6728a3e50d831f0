"""Whole purchase journeys, as a shopper's phone and a merchant walk them: through the real app,
with WeChat (login, pay, shipping upload) played by the simulator as a server of its own."""

from __future__ import annotations

import uuid

from commerce.orders.services import ship_order
from tests.edges.paying import confirm_payment, eventually, pay_params, prepay_id_of, sim
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import seed_small_catalog


async def _find_and_order(client, headers: dict, query: str, quantity: int) -> dict:
    """Search, open the product, put its first SKU in the cart, preview, order from the cart."""
    found = await (await client.get("/api/v1/products", params={"q": query})).json()
    product = await (await client.get(f"/api/v1/products/{found['items'][0]['id']}")).json()
    sku_id = product["skus"][0]["id"]
    response = await client.post(
        "/api/v1/cart/items", json={"sku_id": sku_id, "quantity": quantity}, headers=headers
    )
    assert response.status == 200, await response.text()
    address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
    choice = {"from_cart": True, "address_id": address["id"]}
    preview = await (await client.post("/api/v1/checkout/preview", json=choice, headers=headers)).json()
    response = await client.post(
        "/api/v1/orders", json=choice, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert response.status == 201, await response.text()
    order = await response.json()
    assert order["payable"] == preview["payable"]
    return order


async def _order(client, headers: dict, order_id: int) -> dict:
    return await (await client.get(f"/api/v1/orders/{order_id}", headers=headers)).json()


async def test_login_search_cart_order_pay_ship_and_complete(client, simulator):
    await seed_small_catalog()
    headers = await auth_headers(client, simulator, "alice")
    order = await _find_and_order(client, headers, "蓝牙耳机", 1)
    assert order["status"] == "pending_payment"
    # pay: the mini-program gets wx.requestPayment's parameters, the shopper pays in WeChat
    params = await pay_params(client, headers, order["id"])
    paid = await confirm_payment(simulator, prepay_id_of(params))
    assert (await _order(client, headers, order["id"]))["status"] == "paid"
    # the merchant ships it; WeChat learns of the shipment
    await ship_order(order_id=order["id"], carrier="中通快递", tracking_no="ZT1234567890", actor="staff:1")
    shipped = await _order(client, headers, order["id"])
    assert (shipped["status"], shipped["carrier"], shipped["tracking_no"]) == (
        "shipped",
        "中通快递",
        "ZT1234567890",
    )
    _, state = await sim(simulator, "GET", "/pay/state")
    assert state["shipping"][paid["transaction_id"]][0]["shipping_list"][0]["express_company"] == "ZTO"
    # the shopper confirms receipt
    response = await client.post(f"/api/v1/orders/{order['id']}/confirm-receipt", headers=headers)
    assert (await response.json())["status"] == "completed"
    listed = await (await client.get("/api/v1/orders?status=completed", headers=headers)).json()
    assert [o["id"] for o in listed["items"]] == [order["id"]]


async def test_cancel_one_order_and_get_a_refund_for_another(client, simulator):
    await seed_small_catalog()
    headers = await auth_headers(client, simulator, "alice")
    stock = await _stock(client, "蓝牙耳机")
    # an order the shopper thinks better of before paying
    first = await _find_and_order(client, headers, "蓝牙耳机", 2)
    assert await _stock(client, "蓝牙耳机") == stock - 2
    cancelled = await (await client.post(f"/api/v1/orders/{first['id']}/cancel", headers=headers)).json()
    assert cancelled["status"] == "cancelled"
    assert await _stock(client, "蓝牙耳机") == stock
    # an order paid, then refunded before shipment
    second = await _find_and_order(client, headers, "蓝牙耳机", 1)
    await confirm_payment(simulator, prepay_id_of(await pay_params(client, headers, second["id"])))
    response = await client.post(
        f"/api/v1/orders/{second['id']}/refunds", json={"reason": "拍错了"}, headers=headers
    )
    assert (await response.json())["status"] == "paid"  # until the money is back: then closed

    async def refunded() -> bool:
        return (await _order(client, headers, second["id"]))["status"] == "closed"

    await eventually(refunded)
    refund = (await _order(client, headers, second["id"]))["refunds"][0]
    assert (refund["status"], refund["amount"], refund["automatic"]) == (
        "succeeded",
        second["payable"],
        False,
    )
    assert await _stock(client, "蓝牙耳机") == stock
    _, state = await sim(simulator, "GET", "/pay/state")
    assert any(r["status"] == "SUCCESS" for r in _refunds(state))


async def _stock(client, query: str) -> int:
    found = await (await client.get("/api/v1/products", params={"q": query})).json()
    product = await (await client.get(f"/api/v1/products/{found['items'][0]['id']}")).json()
    return product["skus"][0]["stock"]


def _refunds(state: dict) -> list[dict]:
    refunds = state["refunds"]
    return list(refunds.values()) if isinstance(refunds, dict) else refunds
