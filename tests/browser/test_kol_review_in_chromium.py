"""A KOL's application walked through approval in a real browser (Debian's Chromium, driven by
Playwright): a shopper applies in the mini-program, a platform admin makes a tier, opens
达人推广, reads the application (phone masked), approves it into that tier; the applicant is told
through the official account and their home page has their tier and share link. Screenshots go
to test-artifacts/kol-*.png.

CI installs Chromium and sets TEST_REQUIRE_SERVICES, so there a missing browser fails the run;
a developer's machine without it skips this test."""

from __future__ import annotations

import os

import pytest
from playwright.async_api import expect

from commerce.staff.services import create_platform_admin
from tests.browser.walk_helpers import (
    ARTIFACTS,
    CHROMIUM,
    admin_browser,
    custom_messages_to,
    open_section,
    sign_in,
)
from tests.builders import PASSWORD, new_follower
from tests.edges.paying import settle_outbox
from tests.edges.shoppers import auth_headers

if not CHROMIUM.exists():
    if os.environ.get("TEST_REQUIRE_SERVICES"):
        raise RuntimeError("browser tests need Debian's Chromium at /usr/bin/chromium (.ci/run installs it)")
    pytest.skip("Chromium is not installed here", allow_module_level=True)


async def test_a_kols_application_is_approved_into_a_tier_in_the_admin(client, simulator):
    # given alice, a follower, who applies to be a KOL in the mini-program
    await create_platform_admin(username="boss", password=PASSWORD)
    await new_follower(simulator, "alice")
    alice = await auth_headers(client, simulator, "alice")
    application = {"name": "林小美", "phone": "13912345678", "intro": "小红书美妆博主，粉丝 3 万"}
    applied = await client.post("/api/v1/kol/application", json=application, headers=alice)
    assert applied.status == 200, await applied.text()
    kol_id = (await applied.json())["kol"]["id"]
    base = str(client.make_url("")).rstrip("/")
    async with admin_browser("kol-failure.png") as page:
        # when the platform admin makes a gold tier at 12%
        await sign_in(page, base, "boss", PASSWORD)
        await open_section(page, "达人推广")
        await page.get_by_role("link", name="推广等级与佣金比例").click()
        form = page.locator("#create-tier")
        await form.locator("input[name=name]").fill("金牌")
        await form.locator("input[name=rate]").fill("12")
        await form.get_by_role("button", name="新建").click()
        await expect(page.locator("#tiers")).to_contain_text("12.00%")
        # and opens the waiting application
        await open_section(page, "达人推广")
        row = page.locator(f'#kols tr[data-kol="{kol_id}"]')
        await expect(row).to_contain_text("139****5678")
        await expect(row).to_contain_text("小红书美妆博主")
        await page.screenshot(path=ARTIFACTS / "kol-applications.png", full_page=True)
        await row.get_by_role("link", name="林小美").click()
        await expect(page.locator("#status")).to_have_text("待审核")
        # and approves it into the gold tier
        await page.select_option("#approve-tier", label="金牌（12.00%）")
        await page.click("#approve")
        # then the page says approved, in gold, with her share link, and the timeline says so
        await expect(page.locator("#status")).to_have_text("已通过")
        await expect(page.locator("main")).to_contain_text("金牌（默认 12.00%")
        await expect(page.locator("main")).to_contain_text("pages/index/index?ref=")
        await expect(page.locator("#timeline")).to_contain_text("待审核 → 已通过")
        await page.screenshot(path=ARTIFACTS / "kol-approved.png", full_page=True)
        await open_section(page, "达人推广")
        await expect(page.locator("[data-empty=kols]")).to_be_visible()
    # and alice is told, and her home page has her tier and share link
    await settle_outbox()
    assert any("您已成为平台推广员" in text for text in await custom_messages_to(simulator, "alice"))
    board = await (await client.get("/api/v1/kol", headers=alice)).json()
    assert (board["tier"]["name"], board["tier"]["rate_bps"]) == ("金牌", 1200)
    assert board["share_path"].endswith(f"ref={board['kol']['code']}")
