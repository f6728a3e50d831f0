"""Shoppers for edge tests: logged in through the simulator, as the mini-program does."""

from aiohttp import ClientSession

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
