"""Odd input a person (or a forged request) can send the admin gets a clear refusal, never a
500 and never a half-done change: found in review, each once a crash."""

from __future__ import annotations

from commerce.catalog.importer import import_rows
from commerce.catalog.models import Product, Sku
from tests.builders import file_form, form_fields, staff_signed_in, upload_catalog
from tests.factories import seed_small_catalog, sku_row


async def test_a_spec_axis_without_values_is_explained_not_crashed(client):
    await seed_small_catalog()
    await staff_signed_in(client, "boss")
    page = await (await client.get("/admin/products/new")).text()
    typed = {
        "title": "没有取值的规格",
        "axis_name_0": "颜色",
        "axis_values_0": "",
        "price_0": "1",
        "stock_0": "1",
    }
    saved = await client.post(
        "/admin/products/new", data=[*form_fields(page, "/admin/products/new", **typed), ("do", "save")]
    )
    assert saved.status == 400 and "至少要有一个取值" in await saved.text()
    # a grid row whose combination is a deeply nested forgery is no row at all
    forged = {**typed, "axis_values_0": "黑色", "sku_combo_0": "[" * 100_000}
    saved = await client.post(
        "/admin/products/new", data=[*form_fields(page, "/admin/products/new", **forged), ("do", "save")]
    )
    assert saved.status == 400
    assert not await Product.filter(title="没有取值的规格").exists()


async def test_prices_and_stock_beyond_what_the_shop_keeps_are_refused(client):
    await seed_small_catalog()
    report = await import_rows(
        [
            sku_row("BIG1", "BIG1-1", title="库存太多", category="数码 > 配件", price="1", stock=10**30),
            sku_row("BIG2", "BIG2-1", title="价格太高", category="数码 > 配件", price="30000000"),
            sku_row("OK1", "OK1-1", title="正常商品", category="数码 > 配件", price="1"),
        ]
    )
    # the two bad rows are reported, the good one still loads
    assert [p.spu_code for p in report.problems] == ["BIG1", "BIG2"]
    assert await Sku.filter(sku_code="OK1-1").exists()


async def test_unreadable_csv_uploads_are_refused_clearly(client, simulator):
    await seed_small_catalog()
    csrf = await staff_signed_in(client, "boss")
    huge_cell = b"x" * 200_000
    # a catalog whose header the csv module cannot read
    refused = await upload_catalog(client, "catalog.csv", b"category,spu_code," + huge_cell + b"\n")
    assert refused.status == 400 and "无法读取" in await refused.text()
    # a shipping file with such a cell
    body = "订单号,快递公司,快递单号\n1,顺丰速运,".encode() + huge_cell + b"\n"
    shipped = await client.post(
        "/admin/orders/ship-bulk", data=file_form([("csrf_token", csrf)], "ship.csv", body, "text/csv")
    )
    assert shipped.status == 400 and "CSV" in await shipped.text()


async def test_odd_dates_on_the_order_list_are_no_crash(client):
    await staff_signed_in(client, "boss")
    for params in ({"from": "0001-01-01"}, {"to": "9999-12-31"}, {"from": "2026-13-40"}):
        listed = await client.get("/admin/orders", params=params)
        # the list still shows, with the date filter's error beside it
        assert listed.status == 200 and "日期格式应为 年-月-日" in await listed.text(), params
