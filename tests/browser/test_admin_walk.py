"""The admin web walked in a real browser (Debian's Chromium, driven by Playwright) through the
real app and the simulated WeChat: a platform admin publishes a product with two spec axes and
an image, puts it on sale, ships the order a shopper pays for and approves the shopper's
after-sales request (WeChat Pay returns the money); then answers a follower in the live inbox.
Screenshots of the main pages go to test-artifacts/admin-walk-*.png.

CI installs Chromium (`.ci/run`) and sets TEST_REQUIRE_SERVICES, so there a missing browser
fails the run; a developer's machine without it skips these tests.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.async_api import expect

from commerce.merchants.services import ensure_merchant
from commerce.staff.services import create_platform_admin
from tests.browser.walk_helpers import (
    ARTIFACTS,
    CHROMIUM,
    admin_browser,
    custom_messages_to,
    open_section,
    shopper_buys,
    sign_in,
    write_png,
)
from tests.builders import PASSWORD, follower_says
from tests.edges.paying import eventually, sim
from tests.factories import seed_small_catalog

if not CHROMIUM.exists():
    if os.environ.get("TEST_REQUIRE_SERVICES"):
        raise RuntimeError("browser tests need Debian's Chromium at /usr/bin/chromium (.ci/run installs it)")
    pytest.skip("Chromium is not installed here", allow_module_level=True)

TITLE = "小米 14 影像手机"
GRID = {  # a row of the SKU grid: (price in yuan, stock) as the admin types them
    "黑色 / 128GB": ("3999", "10"),
    "黑色 / 256GB": ("4299.00", "5"),
    "白色 / 128GB": ("3999", "8"),
    "白色 / 256GB": ("4299.50", "3"),
}


async def test_a_product_goes_on_sale_is_bought_shipped_and_refunded(client, simulator, tmp_path):
    # given a platform admin, the demo catalog's categories and the platform's own shop
    await seed_small_catalog()
    await ensure_merchant()
    await create_platform_admin(username="boss", password=PASSWORD)
    base = str(client.make_url("")).rstrip("/")
    async with admin_browser("admin-walk-shop-failed.png") as page:
        await sign_in(page, base, "boss", PASSWORD)

        # when the admin starts a product with two spec axes and has the SKU grid made
        await open_section(page, "商品")
        await page.get_by_role("link", name="发布商品").click()
        await page.fill("input[name=title]", TITLE)
        await page.select_option("select[name=category_id]", label="数码 / 手机 / 5G手机")
        await page.select_option("select[name=merchant_id]", label="平台自营")
        await page.fill("input[name=axis_name_0]", "颜色")
        await page.fill("input[name=axis_values_0]", "黑色,白色")
        await page.fill("input[name=axis_name_1]", "容量")
        await page.fill("input[name=axis_values_1]", "128GB,256GB")
        await page.get_by_role("button", name="生成规格表").click()
        # and fills in a price and a stock per row (the grid is on the page the server sent back)
        for label, (price, stock) in GRID.items():
            await page.get_by_label(f"{label} 价格", exact=True).fill(price)
            await page.get_by_label(f"{label} 库存", exact=True).fill(stock)
        # and chooses an image, which the page uploads at once, keeping what was typed
        await page.set_input_files("input[name=upload]", write_png(tmp_path / "phone.png"))
        # (loaded by the browser from our /media/; not wait_for_function: the CSP forbids eval)
        await expect(page.locator(".images img")).to_have_js_property("naturalWidth", 1)
        await expect(page.get_by_label("白色 / 256GB 价格", exact=True)).to_have_value("4299.50")
        await expect(page.locator("input[name=title]")).to_have_value(TITLE)
        await page.screenshot(path=ARTIFACTS / "admin-walk-product-form.png", full_page=True)
        # and saves it, then puts it on sale from its page
        await page.click(".buttons button.primary")  # 保存 (the visible one)
        await page.wait_for_url(re.compile(r"/admin/products/\d+\?notice=saved$"))
        product_id = int(re.search(r"/admin/products/(\d+)", page.url).group(1))
        await page.get_by_role("button", name="上架销售").click()
        await expect(page.get_by_role("status")).to_have_text("已上架 1 个商品")

        # then the products list shows it on sale, with its image and price range
        await open_section(page, "商品")
        row = page.locator("tbody tr", has_text=TITLE)
        await expect(row).to_contain_text("在售")
        await expect(row).to_contain_text("¥3999.00 - 4299.50")
        await expect(row.locator("img.thumb")).to_have_count(1)
        await page.screenshot(path=ARTIFACTS / "admin-walk-products.png", full_page=True)
        # and the mini-program finds it, with its four SKUs as typed (prices in fen)
        found = await (await client.get("/api/v1/products", params={"q": TITLE})).json()
        assert product_id in [item["id"] for item in found["items"]]
        product = await (await client.get(f"/api/v1/products/{product_id}")).json()
        assert sorted(
            (s["specs"]["颜色"], s["specs"]["容量"], s["price"], s["stock"]) for s in product["skus"]
        ) == [
            ("白色", "128GB", 399900, 8),
            ("白色", "256GB", 429950, 3),
            ("黑色", "128GB", 399900, 10),
            ("黑色", "256GB", 429900, 5),
        ]
        assert len(product["images"]) == 1

        # given alice buys the white 256GB one in the mini-program and pays
        white = next(s for s in product["skus"] if s["specs"] == {"颜色": "白色", "容量": "256GB"})
        order = await shopper_buys(client, simulator, "alice", white["id"])
        # when the admin finds the order and ships it
        await open_section(page, "订单")
        await page.get_by_role("link", name=order["order_no"]).click()
        await expect(page.locator("h2")).to_contain_text("待发货")
        await expect(page.locator("main")).to_contain_text("颜色：白色 容量：256GB")
        await page.screenshot(path=ARTIFACTS / "admin-walk-order-to-ship.png", full_page=True)
        await page.select_option("select[name=carrier]", "顺丰速运")
        await page.fill("input[name=tracking_no]", "SF1234567890")
        await page.get_by_role("button", name="发货", exact=True).click()
        await expect(page.locator("main")).to_contain_text("物流：顺丰速运 SF1234567890")

        # then WeChat has the shipment (WeChat Pay's order-shipping upload)
        async def shipment_uploaded() -> bool:
            _, state = await sim(simulator, "GET", "/pay/state")
            return bool(state["shipping"].get(order["transaction_id"]))

        await eventually(shipment_uploaded)
        _, state = await sim(simulator, "GET", "/pay/state")
        uploaded = state["shipping"][order["transaction_id"]][0]["shipping_list"][0]
        assert uploaded["tracking_no"] == "SF1234567890"

        # given alice asks for a refund of the shipped order
        asked = await client.post(
            f"/api/v1/orders/{order['id']}/refunds", json={"reason": "屏幕有坏点"}, headers=order["headers"]
        )
        assert asked.status == 201, await asked.text()
        aftersale = (await asked.json())["aftersales"][-1]
        # when the admin finds it among the after-sales requests and approves it on its page
        await open_section(page, "售后")
        row = page.locator("tbody tr", has_text=order["order_no"])
        await expect(row).to_contain_text("待审核")
        await expect(row).to_contain_text("屏幕有坏点")
        await page.screenshot(path=ARTIFACTS / "admin-walk-aftersales.png", full_page=True)
        await row.get_by_role("link", name=aftersale["aftersale_no"]).click()
        await expect(page.locator("main")).to_contain_text("¥4299.50")
        approve = page.get_by_role("button", name=re.compile(r"^同意退款 ¥4299\.50"))
        await approve.click()
        await expect(approve).to_have_count(0)  # the request's page came back without it

        # then WeChat Pay returns the money and the request ends refunded, for alice and on the page
        async def refunded() -> bool:
            answer = await client.get(f"/api/v1/aftersales/{aftersale['id']}", headers=order["headers"])
            return (await answer.json())["status"] == "refunded"

        await eventually(refunded, within=15.0)
        await page.reload()
        await expect(page.locator("h2")).to_contain_text("已退款")
        await expect(page.locator("#timeline")).to_contain_text("boss（平台管理员）")
        await page.screenshot(path=ARTIFACTS / "admin-walk-aftersale-refunded.png", full_page=True)
        # and the order's page links its request
        await page.get_by_role("link", name=order["order_no"]).click()
        await expect(page.locator("#aftersales")).to_contain_text(aftersale["aftersale_no"])
        # and the dashboard counts the paid order, refunded, and nothing left to ship
        await open_section(page, "概览")
        month = page.locator("tr", has_text="近 30 天")
        await expect(month.locator("[data-figure=orders]")).to_have_text("1")
        await expect(month.locator("[data-figure=refund-rate]")).to_have_text("100.0%")
        await expect(page.locator("[data-figure=to-ship]")).to_have_text("0")
        await page.screenshot(path=ARTIFACTS / "admin-walk-dashboard.png", full_page=True)


async def test_an_admin_claims_a_conversation_answers_and_hears_the_follower_live(client, simulator):
    # given a platform admin, and bob, who asked the bot for a human and then asked a question
    await create_platform_admin(username="boss", password=PASSWORD)
    await follower_says(simulator, "bob", "人工")
    await follower_says(simulator, "bob", "我买的手机什么时候发货？")
    base = str(client.make_url("")).rstrip("/")
    async with admin_browser("admin-walk-support-failed.png") as page:
        await sign_in(page, base, "boss", PASSWORD)

        # when the admin opens the waiting conversation from the inbox and claims it
        await open_section(page, "客服会话")
        await expect(page.locator("#waiting-count")).to_have_text("1")
        await page.locator("#inbox-rows a").click()
        await expect(page.locator("#timeline")).to_contain_text("我买的手机什么时候发货？")
        await page.get_by_role("button", name="接入", exact=True).click()
        await expect(page.locator("#conv-agent")).to_have_text("boss")
        # and answers
        await page.fill("#reply-text", "您好，今天下午发出")
        await page.get_by_role("button", name="发送", exact=True).click()
        await expect(page.locator(".message.out .body", has_text="您好，今天下午发出")).to_be_visible()
        # then bob receives the answer through WeChat
        assert await custom_messages_to(simulator, "bob") == ["您好，今天下午发出"]

        # when bob writes again while the conversation stays open on the admin's screen
        await page.evaluate("window.walkMark = 'not reloaded'")
        await follower_says(simulator, "bob", "好的，谢谢")
        # then his message appears on the same page, without a reload (the live stream)
        await expect(page.locator(".message.in .body", has_text="好的，谢谢")).to_be_visible()
        assert await page.evaluate("window.walkMark") == "not reloaded"
        await page.screenshot(path=ARTIFACTS / "admin-walk-conversation.png", full_page=True)
