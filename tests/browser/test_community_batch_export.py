"""The platform exports a community batch's picking list in a real browser (Chromium, driven by
Playwright): staff sign in, open the batches from the navigation, open the batch's picking
list and download its Excel file, whose totals are the batch's orders. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import asyncio
import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import async_playwright

from commerce import clock
from commerce.community import batches, sales
from commerce.community.models import Batch
from commerce.staff.services import create_platform_admin
from tests.builders import shopper_with_address
from tests.edges.community import approved_leader, open_sale, paid_in_sale, seed_groceries

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    if os.environ.get("TEST_REQUIRE_SERVICES"):
        raise RuntimeError("browser tests need Debian's Chromium at /usr/bin/chromium (.ci/run installs it)")
    pytest.skip("Chromium is not installed here", allow_module_level=True)


async def test_the_platform_exports_a_batchs_picking_list(client, simulator, data_dir):
    # given tomorrow's sale, alice's two eggs and bob's egg and three milk at leader1's point, cut off
    skus = await seed_groceries()
    sale_id = await open_sale(skus, day=sales.shanghai_today() + timedelta(days=1), title="明日鲜蛋团")
    leader = await approved_leader(client, simulator, "leader1", "幸福里驿站")
    wanted = {"alice": {skus["C1-EGG"]: 2}, "bob": {skus["C1-EGG"]: 1, skus["C2-MILK"]: 3}}
    for user, items in wanted.items():
        shopper = await shopper_with_address(client, simulator, user)
        await paid_in_sale(
            client, data_dir, shopper, sale_id=sale_id, point_id=leader["point_id"], items=items
        )
    cutoff = (await sales.sale_view(sale_id)).cutoff_at
    with clock.frozen(cutoff + timedelta(minutes=1)):
        await batches.cut_off_due_sales()
    batch = await Batch.get(sale_id=sale_id)
    await create_platform_admin(username="boss", password="a-long-password-1")
    base = str(client.make_url("")).rstrip("/")
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        page = await browser.new_page(
            viewport={"width": 1280, "height": 800}, locale="zh-CN", accept_downloads=True
        )
        try:
            # when platform staff sign in and open the batches
            await page.goto(f"{base}/admin/login")
            await page.fill("#username", "boss")
            await page.fill("#password", "a-long-password-1")
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/admin/")
            await page.click("nav >> text=团购批次")
            assert "幸福里驿站" in await page.inner_text("main")
            await page.screenshot(path=ARTIFACTS / "admin-community-batches.png", full_page=True)
            # and the batch's picking list
            await page.click("main table a >> text=拣货单")
            await page.wait_for_url(f"{base}/admin/batches/{batch.id}")
            assert "按 SKU 汇总" in await page.inner_text("main")
            await page.screenshot(path=ARTIFACTS / "admin-community-picking.png", full_page=True)
            # and download its Excel file
            async with page.expect_download() as downloading:
                await page.click("text=导出 Excel")
            download = await downloading.value
            assert download.suggested_filename == f"picking-{batch.id}.xlsx"
            content = await asyncio.to_thread(Path(await download.path()).read_bytes)
        finally:
            await browser.close()
    # then the file's totals per SKU are the batch's orders: 3 eggs, 3 milk
    book = load_workbook(io.BytesIO(content))
    totals = {row[0]: row[3] for row in list(book["SKU汇总"].iter_rows(values_only=True))[1:]}
    assert totals == {skus["C1-EGG"]: 3, skus["C2-MILK"]: 3}
    lines = [r for r in book["拣货单"].iter_rows(values_only=True) if r and isinstance(r[6], int)]
    assert sum(r[6] for r in lines) == 6 and {r[1] for r in lines} == {"王*"}
