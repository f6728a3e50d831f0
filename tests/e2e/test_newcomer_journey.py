"""What a newcomer does: migrate, seed the demo, serve, then shop as a simulated WeChat user.

Runs the real `shop` console script in subprocesses on the embedded default (SQLite file,
in-process Redis stand-in, the simulator mounted under /_sim).
"""

from __future__ import annotations

import aiohttp

from tests.e2e.serving import free_port, serving, shop, shop_env


async def test_migrate_seed_serve_search_and_log_in(tmp_path, shop_services):
    # given a fresh data folder, migrated and seeded like `make serve` does
    env = shop_env(tmp_path / "var", shop_services)
    assert shop(env, "migrate").returncode == 0
    seeded = shop(env, "seed-demo", "--if-empty")
    assert seeded.returncode == 0, seeded.stderr
    again = shop(env, "seed-demo", "--if-empty")
    assert again.returncode == 0 and "跳过" in again.stdout
    with serving(env) as base:
        async with aiohttp.ClientSession() as http:
            # when a shopper searches the demo catalog
            async with http.get(f"{base}/api/v1/products", params={"q": "苹果手机"}) as response:
                found = await response.json()
            assert response.status == 200 and found["total"] > 0
            assert any("iPhone" in item["title"] for item in found["items"][:5])
            async with http.get(f"{base}/api/v1/products", params={"page_size": 100}) as response:
                assert (await response.json())["total"] >= 300
            # and finds the demo 拼团 deal and today's community sale
            async with http.get(f"{base}/api/v1/group-deals/1") as response:
                deal = await response.json()
            assert response.status == 200 and deal["group_size"] == 3, deal
            async with http.get(f"{base}/api/v1/community/sales") as response:
                sales = await response.json()
            assert response.status == 200 and len(sales["items"]) == 1, sales
            # and logs in through the simulator mounted in the same service
            async with http.post(f"{base}/_sim/wx/login-code", json={"user": "alice"}) as response:
                code = (await response.json())["code"]
            async with http.post(f"{base}/api/v1/auth/login", json={"code": code}) as response:
                login = await response.json()
            assert response.status == 200, login
            headers = {"Authorization": f"Bearer {login['token']}"}
            async with http.get(f"{base}/api/v1/me", headers=headers) as response:
                assert response.status == 200
            # and orders the first iPhone and pays for it in the simulated WeChat sheet
            order = await _order(http, base, headers, found["items"][0]["id"])
            async with http.post(f"{base}/api/v1/orders/{order['id']}/pay", headers=headers) as response:
                params = await response.json()
            assert response.status == 200, params
            prepay_id = params["package"].removeprefix("prepay_id=")
            async with http.post(f"{base}/_sim/pay/confirm", json={"prepay_id": prepay_id}) as response:
                paid = await response.json()
            # then WeChat Pay's notification reached the service at its public address
            assert response.status == 200 and paid["notified"][0] == 204, paid
            async with http.get(f"{base}/api/v1/orders/{order['id']}", headers=headers) as response:
                assert (await response.json())["status"] == "paid"


async def _order(http: aiohttp.ClientSession, base: str, headers: dict, product_id: int) -> dict:
    async with http.get(f"{base}/api/v1/products/{product_id}") as response:
        sku = next(s for s in (await response.json())["skus"] if s["stock"] > 0)
    address = {
        "receiver_name": "李四",
        "phone": "13900139000",
        "province": "北京市",
        "city": "北京市",
        "district": "海淀区",
        "detail": "中关村大街 1 号",
    }
    async with http.post(f"{base}/api/v1/addresses", json=address, headers=headers) as response:
        address_id = (await response.json())["id"]
    body = {"items": [{"sku_id": sku["id"], "quantity": 1}], "address_id": address_id}
    ordering = {**headers, "Idempotency-Key": "newcomer-first-order"}
    async with http.post(f"{base}/api/v1/orders", json=body, headers=ordering) as response:
        assert response.status == 201
        return await response.json()


def test_create_admin_makes_an_account_once(tmp_path, shop_services):
    env = shop_env(tmp_path / "var", shop_services)
    assert shop(env, "migrate").returncode == 0
    made = shop(env, "create-admin", "boss", "--password", "a-long-password-1")
    assert made.returncode == 0, made.stderr
    again = shop(env, "create-admin", "boss", "--password", "a-long-password-1")
    assert again.returncode == 1 and "用户名已被使用" in again.stderr
    weak = shop(env, "create-admin", "other", "--password", "short")
    assert weak.returncode == 1 and "密码至少" in weak.stderr


def test_live_mode_refuses_to_start_without_credentials(tmp_path, shop_services):
    result = shop({**shop_env(tmp_path / "var", shop_services), "WECHAT_MODE": "live"}, "serve")
    assert result.returncode == 2
    assert "WECHAT_MODE=live" in result.stderr


async def test_the_operator_pushes_the_menu_and_makes_a_qr_code(tmp_path, shop_services):
    # given a served shop whose public address the commands know (the simulator answers there)
    port = free_port()
    env = {**shop_env(tmp_path / "var", shop_services), "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    assert shop(env, "migrate").returncode == 0
    with serving(env, port) as base:
        # when the operator pushes the menu and makes a scene QR code
        pushed = shop(env, "wechat", "menu", "push")
        code = shop(env, "wechat", "qrcode", "leader:42", "--days", "7")
        refused = shop(env, "wechat", "qrcode", "x" * 65)
        async with aiohttp.ClientSession() as http, http.get(f"{base}/_sim/mp/state") as response:
            state = await response.json()
    # then WeChat has the menu and the code
    assert pushed.returncode == 0 and "菜单已推送" in pushed.stdout, pushed.stderr
    account = next(iter(state["accounts"].values()))
    assert [button["name"] for button in account["menu"]] == ["逛商城", "我的", "服务"]
    assert code.returncode == 0 and "showqrcode?ticket=" in code.stdout and "北京时间" in code.stdout
    assert refused.returncode == 1 and "场景值" in refused.stderr
