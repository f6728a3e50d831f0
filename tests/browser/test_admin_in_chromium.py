"""The admin web in a real browser (Debian's Chromium, driven by Playwright): an admin signs
in, sees the dashboard, and answers a follower who asked the bot for a human; the answer
reaches the follower through the simulated WeChat. Screenshots go to test-artifacts/.

CI installs Chromium (`.ci/run`) and sets TEST_REQUIRE_SERVICES, so there a missing browser
fails the run; a developer's machine without it skips these tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from commerce.staff.services import create_platform_admin
from tests.edges.paying import sim

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the machine's closed network refuses Chromium's own calls
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    if os.environ.get("TEST_REQUIRE_SERVICES"):
        raise RuntimeError("browser tests need Debian's Chromium at /usr/bin/chromium (.ci/run installs it)")
    pytest.skip("Chromium is not installed here", allow_module_level=True)


async def test_an_admin_signs_in_and_answers_a_follower(client, simulator):
    # given a platform admin, and a follower who asked the bot for a human
    await create_platform_admin(username="boss", password="a-long-password-1")
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "text", "content": "人工"})
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "text", "content": "我的快递到哪了？"})
    base = str(client.make_url("")).rstrip("/")
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        page = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        try:
            # when the admin signs in
            await page.goto(f"{base}/admin/login")
            await page.screenshot(path=ARTIFACTS / "admin-login.png")
            await page.fill("#username", "boss")
            await page.fill("#password", "a-long-password-1")
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/admin/")
            assert "您好，boss" in await page.inner_text("main")
            await page.screenshot(path=ARTIFACTS / "admin-dashboard.png", full_page=True)
            # and opens the waiting conversation from the inbox
            await page.click("nav >> text=客服会话")
            await page.screenshot(path=ARTIFACTS / "admin-inbox.png")
            await page.click("table a")
            assert "我的快递到哪了？" in await page.inner_text("main")
            await page.fill("textarea[name=text]", "您好，包裹已在派送中")
            await page.click("text=发送")
            await page.wait_for_load_state()
            await page.screenshot(path=ARTIFACTS / "admin-conversation.png", full_page=True)
        finally:
            await browser.close()
    # then alice received the answer through WeChat
    _, log = await sim(simulator, "GET", "/mp/messages?user=alice")
    assert [m["body"]["content"] for m in log["messages"] if m["direction"] == "custom"] == [
        "您好，包裹已在派送中"
    ]
