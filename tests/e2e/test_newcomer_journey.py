"""What a newcomer does: migrate, seed the demo, serve, then shop as a simulated WeChat user.

Runs the real `shop` console script in subprocesses on the embedded default (SQLite file,
in-process Redis stand-in, the simulator mounted under /_sim).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

SHOP = str(Path(sys.executable).parent / "shop")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def shop_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env.update(SHOP_DATA_DIR=str(tmp_path / "var"), WECHAT_MODE="simulator", LOG_LEVEL="WARNING")
    return env


def _shop(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SHOP, *args], env=env, capture_output=True, text=True, timeout=300)


async def test_migrate_seed_serve_search_and_log_in(shop_env):
    # given a fresh data folder, migrated and seeded like `make serve` does
    assert _shop(shop_env, "migrate").returncode == 0
    seeded = _shop(shop_env, "seed-demo", "--if-empty")
    assert seeded.returncode == 0, seeded.stderr
    again = _shop(shop_env, "seed-demo", "--if-empty")
    assert again.returncode == 0 and "跳过" in again.stdout
    port = _free_port()
    log = open(Path(shop_env["SHOP_DATA_DIR"]) / "serve.log", "w")  # noqa: SIM115, ASYNC230 (closed below)
    server = subprocess.Popen(  # noqa: ASYNC220 (the server under test, started once)
        [SHOP, "serve", "--port", str(port)], env=shop_env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with http.get(f"{base}/api/v1/categories") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, "shop serve did not come up"
                await asyncio.sleep(0.3)
            # when a shopper searches the demo catalog
            async with http.get(f"{base}/api/v1/products", params={"q": "苹果手机"}) as response:
                found = await response.json()
            assert response.status == 200 and found["total"] > 0
            assert any("iPhone" in item["title"] or "苹果" in item["title"] for item in found["items"][:5])
            async with http.get(f"{base}/api/v1/products", params={"page_size": 100}) as response:
                listing = await response.json()
            assert listing["total"] >= 300
            # and logs in through the simulator mounted in the same service
            async with http.post(f"{base}/_sim/wx/login-code", json={"user": "alice"}) as response:
                code = (await response.json())["code"]
            async with http.post(f"{base}/api/v1/auth/login", json={"code": code}) as response:
                login = await response.json()
            assert response.status == 200, login
            async with http.get(
                f"{base}/api/v1/me", headers={"Authorization": f"Bearer {login['token']}"}
            ) as response:
                assert response.status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def test_create_admin_makes_an_account_once(shop_env):
    assert _shop(shop_env, "migrate").returncode == 0
    made = _shop(shop_env, "create-admin", "boss", "--password", "a-long-password-1")
    assert made.returncode == 0, made.stderr
    again = _shop(shop_env, "create-admin", "boss", "--password", "a-long-password-1")
    assert again.returncode == 1 and "用户名已被使用" in again.stderr
    weak = _shop(shop_env, "create-admin", "other", "--password", "short")
    assert weak.returncode == 1 and "密码至少" in weak.stderr


def test_live_mode_refuses_to_start_without_credentials(shop_env):
    result = _shop({**shop_env, "WECHAT_MODE": "live"}, "serve")
    assert result.returncode == 2
    assert "WECHAT_MODE=live" in result.stderr
