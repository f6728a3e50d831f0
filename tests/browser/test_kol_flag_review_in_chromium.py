"""A KOL fraud flag reviewed in a real browser (Debian's Chromium, driven by Playwright): a
platform admin opens 推广风控, reads the flag's evidence (the shared address masked), tries to
void it without a reason (nothing happens), voids it with a reason; the page says so,
the held commissions are voided and the books balance. Screenshots go to
test-artifacts/kol-flag-*.png.

CI installs Chromium and sets TEST_REQUIRE_SERVICES, so there a missing browser fails the run;
a developer's machine without it skips this test."""

from __future__ import annotations

import os

import pytest
from playwright.async_api import expect

from commerce.referrals.commission_models import KolCommission
from commerce.referrals.models import KolFlag
from commerce.referrals.states import FlagStatus, KolCommissionStatus
from commerce.staff.services import create_platform_admin
from tests.browser.walk_helpers import ARTIFACTS, CHROMIUM, admin_browser, open_section, sign_in
from tests.builders import PASSWORD
from tests.edges.shoppers import ADDRESS
from tests.kol_commission_builders import books_balanced, flagged_kol

if not CHROMIUM.exists():
    if os.environ.get("TEST_REQUIRE_SERVICES"):
        raise RuntimeError("browser tests need Debian's Chromium at /usr/bin/chromium (.ci/run installs it)")
    pytest.skip("Chromium is not installed here", allow_module_level=True)


async def test_a_flag_is_read_and_voided_with_a_reason_in_the_admin(client, simulator, settings):
    # given a KOL flagged for referred accounts sharing one address, and a platform admin
    kol_id, _, flag_id = await flagged_kol(client, simulator, settings)
    await create_platform_admin(username="boss", password=PASSWORD)
    base = str(client.make_url("")).rstrip("/")
    async with admin_browser("kol-flag-failure.png") as page:
        # when the admin opens 推广风控 and the open flag
        await sign_in(page, base, "boss", PASSWORD)
        await open_section(page, "推广风控")
        row = page.locator(f'tr[data-flag="{flag_id}"]')
        await expect(row).to_have_attribute("data-status", "open")
        await expect(row).to_contain_text("阿美")
        await row.get_by_role("link", name=f"#{flag_id}").click()
        # then the evidence shows the shared address masked, never in full
        evidence = page.locator("#evidence")
        await expect(evidence.locator('[data-kind="shared_address"]')).to_contain_text(
            "广东省深圳市南山区科技***"
        )
        await expect(page.locator("main")).not_to_contain_text(ADDRESS["detail"])
        await page.screenshot(path=ARTIFACTS / "kol-flag-evidence.png", full_page=True)
        # when the admin presses 作废 with no reason, nothing is voided (the browser asks for
        # one; the server would refuse a blank one too)
        await page.click("#void")
        await expect(page.locator("#status")).to_have_text("待复核")
        assert (await KolFlag.get(id=flag_id)).status is FlagStatus.OPEN
        # and with a reason, it goes through
        await page.get_by_label("作废原因").fill("同一地址多个账号刷单")
        await page.click("#void")
        # then the page says voided, with the reason, and offers no more review
        await expect(page.locator("#status")).to_have_text("已作废")
        await expect(page.locator("#note")).to_have_text("同一地址多个账号刷单")
        await expect(page.locator("#actions")).to_have_count(0)
        await page.screenshot(path=ARTIFACTS / "kol-flag-voided.png", full_page=True)
    # and the held commissions are voided in the books, which balance
    assert (await KolFlag.get(id=flag_id)).status is FlagStatus.VOIDED
    assert KolCommissionStatus.VOIDED in set(
        await KolCommission.filter(kol_id=kol_id).values_list("status", flat=True)
    )
    await books_balanced()
