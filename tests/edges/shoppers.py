"""Shoppers for edge tests: logged in through the simulator, as the mini-program does."""

import uuid

from aiohttp import ClientSession

from commerce.catalog.models import Sku

# A delivery address the API accepts.
ADDRESS = {
    "receiver_name": "张三",
    "phone": "13800138000",
    "province": "广东省",
    "city": "深圳市",
    "district": "南山区",
    "detail": "科技园 1 号",
}


async def simulator_post(simulator, path: str, body: dict) -> dict:
    async with ClientSession() as http, http.post(simulator.make_url(path), json=body) as response:
        return await response.json()


async def log_in(client, simulator, user: str = "alice") -> dict:
    """The login response of a WeChat user; the same name is always the same shopper."""
    code = (await simulator_post(simulator, "/wx/login-code", {"user": user}))["code"]
    response = await client.post("/api/v1/auth/login", json={"code": code})
    assert response.status == 200, await response.text()
    return await response.json()


async def auth_headers(client, simulator, user: str = "alice") -> dict[str, str]:
    return {"Authorization": f"Bearer {(await log_in(client, simulator, user))['token']}"}


async def order_sku(client, shopper: dict, sku_code: str = "P2-W", quantity: int = 1) -> dict:
    """Place an order for one SKU (by code) to the shopper's address; the created order."""
    sku = await Sku.get(sku_code=sku_code)
    response = await client.post(
        "/api/v1/orders",
        json={"items": [{"sku_id": sku.id, "quantity": quantity}], "address_id": shopper["address_id"]},
        headers={**shopper["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status == 201, await response.text()
    return await response.json()
