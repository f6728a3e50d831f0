"""A leader's application walked through approval in a real browser (Debian's Chromium, driven
by Playwright): a shopper applies in the mini-program (with a photo of their point), a platform
admin opens 团长, reads the application, approves it; the applicant is told through the official
account and their dashboard opens with a share link and a QR code. Screenshots go to
test-artifacts/leader-*.png.

CI installs Chromium and sets TEST_REQUIRE_SERVICES, so there a missing browser fails the run;
a developer's machine without it skips this test."""

from __future__ import annotations

import os

import pytest
from aiohttp import FormData
from playwright.async_api import expect

from commerce.staff.services import create_platform_admin
from tests.browser.walk_helpers import (
    ARTIFACTS,
    CHROMIUM,
    admin_browser,
    custom_messages_to,
    open_section,
    sign_in,
    write_png,
)
from tests.builders import PASSWORD, new_follower
from tests.edges.paying import settle_outbox
from tests.edges.shoppers import auth_headers

if not CHROMIUM.exists():
    if os.environ.get("TEST_REQUIRE_SERVICES"):
        raise RuntimeError("browser tests need Debian's Chromium at /usr/bin/chromium (.ci/run installs it)")
    pytest.skip("Chromium is not installed here", allow_module_level=True)


async def test_a_leaders_application_is_approved_in_the_admin(client, simulator, tmp_path):
    # given alice, a follower, who applies in the mini-program with a photo of her point
    await create_platform_admin(username="boss", password=PASSWORD)
    await new_follower(simulator, "alice")
    alice = await auth_headers(client, simulator, "alice")
    form = FormData()
    form.add_field("file", write_png(tmp_path / "point.png").read_bytes(), filename="point.png")
    uploaded = await client.post("/api/v1/leader/photos", data=form, headers=alice)
    assert uploaded.status == 201, await uploaded.text()
    application = {
        "name": "王芳",
        "phone": "13812345678",
        "address": "深圳市南山区科技园 1 号楼下便利店",
        "latitude": 22.545012,
        "longitude": 113.938034,
        "opening_hours": "每天 9:00-21:00",
        "photo": (await uploaded.json())["url"],
    }
    applied = await client.post("/api/v1/leader/application", json=application, headers=alice)
    assert applied.status == 200, await applied.text()
    leader_id = (await applied.json())["application"]["id"]
    base = str(client.make_url("")).rstrip("/")
    async with admin_browser("leader-failure.png") as page:
        # when the platform admin opens 团长 and the waiting application
        await sign_in(page, base, "boss", PASSWORD)
        await open_section(page, "团长")
        row = page.locator(f'#applications tr[data-leader="{leader_id}"]')
        await expect(row).to_contain_text("王芳")
        await expect(row).to_contain_text("138****5678")
        await page.screenshot(path=ARTIFACTS / "leader-applications.png", full_page=True)
        await row.get_by_role("link", name="王芳").click()
        await expect(page.locator("main")).to_contain_text("22.545012, 113.938034")
        await expect(page.locator("#status")).to_have_text("待审核")
        # and approves it
        await page.click("#approve")
        # then the page says approved, with her share code, and the lists agree
        await expect(page.locator("#status")).to_have_text("已通过")
        await expect(page.locator("main")).to_contain_text("pages/index/index?leader=")
        await page.screenshot(path=ARTIFACTS / "leader-approved.png", full_page=True)
        await open_section(page, "团长")
        await expect(page.locator("[data-empty=applications]")).to_be_visible()
        await expect(page.locator(f'#leaders tr[data-leader="{leader_id}"]')).to_contain_text("已通过")
        await page.goto(f"{base}/admin/leaders/points")
        await expect(page.locator("#points")).to_contain_text("113.938034")
        await expect(page.locator("#points")).to_contain_text("营业中")
    # and alice is told, and her dashboard opens with her share link and QR code
    await settle_outbox()
    assert any("团长申请已通过" in text for text in await custom_messages_to(simulator, "alice"))
    board = await client.get("/api/v1/leader/dashboard", headers=alice)
    body = await board.json()
    assert board.status == 200 and body["share_path"].endswith(body["share_code"]) and body["qrcode"]
