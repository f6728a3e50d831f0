"""Products in the admin web: create with spec axes and a SKU grid, list and filter, shelve,
edit without losing stock to orders placed meanwhile, bulk price/stock edits, images, and
every merchant kept to its own products."""

from __future__ import annotations

import asyncio
import struct
import uuid
import zlib

from aiohttp import FormData

from commerce.audit.models import AuditEntry
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Category, Product, Sku
from commerce.merchants.services import ensure_merchant
from commerce.staff.services import create_platform_admin
from commerce.staff.states import StaffRole
from tests.builders import PASSWORD, csrf_of, form_fields, sign_in, staff_signed_in
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import seed_small_catalog, sku_row

XSS = "<script>alert(1)</script>"


def _png() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


async def _order(client, simulator, sku_code: str, quantity: int) -> None:
    """A shopper orders (stock is taken when the order is placed)."""
    headers = await auth_headers(client, simulator, "alice")
    address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
    sku = await Sku.get(sku_code=sku_code)
    body = {"items": [{"sku_id": sku.id, "quantity": quantity}], "address_id": address["id"]}
    placed = await client.post(
        "/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert placed.status == 201, await placed.text()


async def _product_id(spu_code: str) -> int:
    return (await Product.get(spu_code=spu_code)).id


async def test_the_platform_creates_a_product_with_two_axes_and_shoppers_find_it_on_sale(client):
    # given the platform admin on the new-product form
    await seed_small_catalog()
    merchant = await ensure_merchant()
    await staff_signed_in(client, "boss")
    page = await (await client.get("/admin/products/new")).text()
    typed = {
        "title": "小米 14 Ultra 影像旗舰",
        "subtitle": "徕卡光学",
        "new_category": "数码/手机/影像手机",
        "merchant_id": str(merchant),
        "axis_name_0": "颜色",
        "axis_values_0": "黑色、白色",
        "axis_name_1": "容量",
        "axis_values_1": "256GB, 512GB",
    }
    # when they enter two spec axes and press 生成规格表 (no JavaScript)
    grid = await client.post(
        "/admin/products/new", data=[*form_fields(page, "/admin/products/new", **typed), ("do", "grid")]
    )
    html = await grid.text()
    # then the grid has one row per combination, and what was typed is still there
    assert grid.status == 200 and "小米 14 Ultra 影像旗舰" in html and "徕卡光学" in html
    for label in ("黑色 / 256GB", "黑色 / 512GB", "白色 / 256GB", "白色 / 512GB"):
        assert label in html
    # when they fill the grid in and save
    prices = {"price_0": "5999", "price_1": "6499.00", "price_2": "5999.5", "price_3": "6499"}
    stocks = {"stock_0": "10", "stock_1": "0", "stock_2": "3", "stock_3": "7", "sku_code_3": "MI14U-W512"}
    saved = await client.post(
        "/admin/products/new",
        data=[
            *form_fields(html, "/admin/products/new", **prices, **stocks, market_price_0="6999"),
            ("do", "save"),
        ],
        allow_redirects=False,
    )
    # then the product is a draft with four SKUs, prices in fen, codes made up where left empty
    assert saved.status == 302, await saved.text()
    product = await Product.get(title="小米 14 Ultra 影像旗舰")
    assert saved.headers["Location"] == f"/admin/products/{product.id}?notice=saved"
    assert (product.status, product.merchant_id, product.total_stock) == ("draft", merchant, 20)
    assert (product.min_price, product.max_price) == (599900, 649900)
    assert product.spu_code.startswith("SPU")
    skus = {tuple(s.specs.values()): s for s in await Sku.filter(product_id=product.id)}
    assert skus[("黑色", "256GB")].price == 599900 and skus[("黑色", "256GB")].market_price == 699900
    assert skus[("白色", "256GB")].price == 599950
    assert skus[("白色", "512GB")].sku_code == "MI14U-W512"
    assert skus[("黑色", "512GB")].sku_code == f"{product.spu_code}-02"
    category = await Category.get(id=product.category_id)
    assert (category.name, category.level) == ("影像手机", 3)
    assert await AuditEntry.filter(action="product.create", object_id=str(product.id)).exists()
    # and the list shows it, found by title and by code
    listed = await (await client.get("/admin/products", params={"q": "小米"})).text()
    assert "小米 14 Ultra 影像旗舰" in listed and "¥5999.00 - 6499.00" in listed and "草稿" in listed
    by_code = await (await client.get("/admin/products", params={"q": "MI14U-W512"})).text()
    assert "小米 14 Ultra 影像旗舰" in by_code and "iPhone" not in by_code
    # when it is put on sale from the list
    csrf = csrf_of(listed)
    shelved = await client.post(
        "/admin/products/batch",
        data={"csrf_token": csrf, "on_sale_one": str(product.id), "back": "q=小米"},
        allow_redirects=False,
    )
    assert shelved.status == 302 and "notice=on_sale" in shelved.headers["Location"]
    assert (await Product.get(id=product.id)).status == "on_sale"
    assert await AuditEntry.filter(action="product.status", object_id=str(product.id)).exists()
    # then shoppers find it in the mini-program at once
    found = await (await client.get("/api/v1/products", params={"q": "小米 14 Ultra"})).json()
    item = next(i for i in found["items"] if i["id"] == product.id)
    assert (item["min_price"], item["in_stock"]) == (599900, True)
    # and taking it off the shelf from its page hides it again
    edit = await (await client.get(f"/admin/products/{product.id}")).text()
    await client.post(
        f"/admin/products/{product.id}/status", data={"csrf_token": csrf, "status": "off_shelf"}
    )
    assert "下架" in edit and (await Product.get(id=product.id)).status == "off_shelf"
    gone = await (await client.get("/api/v1/products", params={"q": "小米 14 Ultra"})).json()
    assert product.id not in [i["id"] for i in gone["items"]]


async def test_the_list_filters_by_status_category_stock_and_pages(client):
    await seed_small_catalog()
    await staff_signed_in(client, "boss")
    fruit = await Category.get(name="水果")

    async def titles(**params) -> str:
        return await (await client.get("/admin/products", params=params)).text()

    assert "未上架的草稿商品" in await titles(status="draft")
    assert "iPhone" not in await titles(status="draft")
    in_fruit = await titles(category=str(fruit.id))  # its descendants count
    assert "赣南脐橙" in in_fruit and "iPhone" not in in_fruit
    sold_out = await titles(stock="sold_out")
    assert "赣南脐橙" in sold_out and "FreeBuds" not in sold_out
    low = await titles(stock="low")
    assert "iPhone" in low and "FreeBuds" not in low  # 5 left; 30 left
    # the export link carries the filters
    assert 'href="/admin/products/export?status=on_sale&amp;stock=low"' in await titles(
        status="on_sale", stock="low"
    )
    # odd filter values are ignored, not a 500
    odd = await client.get("/admin/products", params={"status": "x", "category": "abc", "page": "-3"})
    assert odd.status == 200


async def test_editing_price_and_stock_is_audited(client):
    # given a platform admin editing the iPhone (128GB: 5 in stock)
    await seed_small_catalog()
    await staff_signed_in(client, "boss")
    product_id = await _product_id("P1")
    action = f"/admin/products/{product_id}"
    page = await (await client.get(action)).text()
    assert 'value="5999.00"' in page and 'name="stock_seen_0" value="5"' in page
    # when they change the price and the stock
    saved = await client.post(
        action,
        data=[*form_fields(page, action, price_0="5899.00", stock_0="8"), ("do", "save")],
        allow_redirects=False,
    )
    # then both are changed, the product's derived fields too, and the audit log has before/after
    assert saved.status == 302
    sku = await Sku.get(sku_code="P1-B128")
    assert (sku.price, sku.stock) == (589900, 8)
    product = await Product.get(id=product_id)
    assert (product.min_price, product.total_stock, product.status) == (589900, 8, "on_sale")
    entry = await AuditEntry.get(action="product.update", object_id=str(product_id))
    assert entry.before["skus"]["P1-B128"]["price"] == 599900 and entry.after["skus"]["P1-B128"]["stock"] == 8


async def test_saving_the_form_keeps_orders_placed_while_it_was_open(client, simulator):
    # given the earbuds (30 in stock) open in the edit form
    await seed_small_catalog()
    await staff_signed_in(client, "boss")
    action = f"/admin/products/{await _product_id('P2')}"
    page = await (await client.get(action)).text()
    # when a shopper orders 2 meanwhile, and the merchant then saves 35 (5 more than it saw)
    await _order(client, simulator, "P2-W", 2)
    saved = await client.post(
        action, data=[*form_fields(page, action, stock_0="35"), ("do", "save")], allow_redirects=False
    )
    # then the order's 2 are not lost: 30 - 2 + 5
    assert saved.status == 302
    assert (await Sku.get(sku_code="P2-W")).stock == 33
    assert (await Product.get(spu_code="P2")).total_stock == 33
    # when another order takes 3 and the merchant, from the old page, sets stock to 0 (-33)
    page = await (await client.get(action)).text()
    await _order(client, simulator, "P2-W", 3)
    refused = await client.post(action, data=[*form_fields(page, action, stock_0="0"), ("do", "save")])
    # then nothing goes below zero: the page says what is left and keeps what was typed
    html = await refused.text()
    assert refused.status == 409 and "库存已被订单改为 30" in html
    assert 'name="stock_0" value="0"' in html and 'name="stock_seen_0" value="30"' in html
    assert (await Sku.get(sku_code="P2-W")).stock == 30
    # and saving that page again, now knowingly, sets it to 0
    again = await client.post(
        action, data=[*form_fields(html, action), ("do", "save")], allow_redirects=False
    )
    assert again.status == 302 and (await Sku.get(sku_code="P2-W")).stock == 0
    assert (await Product.get(spu_code="P2")).total_stock == 0


async def test_bulk_edit_sets_prices_and_moves_stock_in_one_go(client, simulator):
    # given the iPhone and the earbuds ticked in the list
    await seed_small_catalog()
    csrf = await staff_signed_in(client, "boss")
    ids = [str(await _product_id("P1")), str(await _product_id("P2"))]
    opened = await client.post(
        "/admin/products/batch",
        data=[("csrf_token", csrf), ("do", "bulk_edit"), ("id", ids[0]), ("id", ids[1])],
        allow_redirects=False,
    )
    assert opened.status == 302
    page = await (await client.get(opened.headers["Location"])).text()
    assert "Apple iPhone 15 手机" in page and "华为 FreeBuds 蓝牙耳机" in page
    skus = {s.sku_code: s.id for s in await Sku.filter(sku_code__in=["P1-B128", "P1-B256", "P2-W"])}
    # when an order takes 1 earbud meanwhile, and the bulk page is saved with new prices and stock
    await _order(client, simulator, "P2-W", 1)
    changes = {
        f"price_{skus['P1-B128']}": "5799",
        f"stock_{skus['P1-B256']}": "4",
        f"stock_{skus['P2-W']}": "40",
    }
    saved = await client.post(
        "/admin/products/bulk",
        data=form_fields(page, "/admin/products/bulk", **changes),
        allow_redirects=False,
    )
    # then prices are set, stock moved by what was typed (30 -> 40 is +10 on the 29 left)
    assert saved.status == 302 and "notice=bulk&n=3" in saved.headers["Location"]
    rows = {s.sku_code: s for s in await Sku.filter(id__in=list(skus.values()))}
    assert (rows["P1-B128"].price, rows["P1-B128"].stock) == (579900, 5)
    assert rows["P1-B256"].stock == 4 and rows["P2-W"].stock == 39
    iphone = await Product.get(spu_code="P1")
    assert (iphone.min_price, iphone.total_stock) == (579900, 9)
    assert (await Product.get(spu_code="P2")).total_stock == 39
    assert await AuditEntry.filter(action="product.bulk_edit").count() == 2
    # a bad number is shown back with the typed values, changing nothing
    bad = await client.post(
        "/admin/products/bulk",
        data=form_fields(page, "/admin/products/bulk", **{f"price_{skus['P2-W']}": "9.999"}),
    )
    assert bad.status == 400 and 'value="9.999"' in await bad.text()
    assert (await Sku.get(sku_code="P2-W")).price == 79900


async def test_images_are_checked_by_content_stored_under_a_hash_and_served(client):
    await seed_small_catalog()
    await staff_signed_in(client, "boss")
    page = await (await client.get("/admin/products/new")).text()

    def upload(name: str, content: bytes, shown: str = page) -> FormData:
        data = FormData()
        for key, value in form_fields(shown, "/admin/products/new", title="带图的商品"):
            data.add_field(key, value)
        data.add_field("do", "upload")
        data.add_field("upload", content, filename=name, content_type="image/png")
        return data

    # when a real PNG is uploaded
    png = _png()
    response = await client.post("/admin/products/new", data=upload("我的照片.png", png))
    html = await response.text()
    # then the form shows it (the title typed is kept), under a hashed name served back as a PNG
    assert response.status == 200 and "带图的商品" in html
    url = next(v for k, v in form_fields(html, "/admin/products/new") if k == "image")
    assert "我的照片" not in url and url.endswith(".png") and "/media/products/" in url
    served = await client.get(url[url.index("/media/") :])
    assert served.status == 200 and await served.read() == png
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in served.headers["Cache-Control"]  # its name is its content's hash
    # when a text file named .png is uploaded, it is refused by its content
    refused = await client.post("/admin/products/new", data=upload("evil.png", b"<svg onload=alert(1)>"))
    text = await refused.text()
    assert refused.status == 400 and "evil.png：只支持 JPEG、PNG、WebP、GIF 格式的图片" in text
    # when a second image is uploaded, moved forward, and the first removed (buttons, no JavaScript)
    gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
    two = await (await client.post("/admin/products/new", data=upload("b.gif", gif, html))).text()
    images = [v for k, v in form_fields(two, "/admin/products/new") if k == "image"]
    assert images[0] == url and images[1].endswith(".gif")
    moved = await client.post(
        "/admin/products/new", data=[*form_fields(two, "/admin/products/new"), ("image_left", "1")]
    )
    moved_html = await moved.text()
    assert [v for k, v in form_fields(moved_html, "/admin/products/new") if k == "image"] == [images[1], url]
    removed = await client.post(
        "/admin/products/new", data=[*form_fields(moved_html, "/admin/products/new"), ("image_remove", "1")]
    )
    html = await removed.text()
    # then saving the form keeps the images left, in that order, on the product
    category = await Category.get(name="5G手机")
    fields = form_fields(
        html,
        "/admin/products/new",
        category_id=str(category.id),
        merchant_id=str(await ensure_merchant()),
        price_0="9.90",
    )
    saved = await client.post("/admin/products/new", data=[*fields, ("do", "save")], allow_redirects=False)
    assert saved.status == 302
    assert (await Product.get(title="带图的商品")).images == [images[1]]


async def test_invalid_input_comes_back_with_clear_messages_and_nothing_lost(client):
    await seed_small_catalog()
    await staff_signed_in(client, "boss")
    page = await (await client.get("/admin/products/new")).text()
    typed = {"subtitle": "留着我", "price_0": "12.345", "stock_0": "-1", "axis_values_0": "红色"}
    response = await client.post(
        "/admin/products/new", data=[*form_fields(page, "/admin/products/new", **typed), ("do", "save")]
    )
    html = await response.text()
    assert response.status == 400
    for message in ("请填写商品标题", "请选择商品分类", "请选择所属商家", "第 1 个规格项缺少名称"):
        assert message in html
    assert 'value="留着我"' in html and 'value="红色"' in html
    # odd values in any field are judged, never a 500
    odd = {"category_id": "²", "merchant_id": "١", "image_remove": "²", "sku_combo_0": "{", "stock_0": "１"}
    assert (
        await client.post(
            "/admin/products/new",
            data={**dict(form_fields(page, "/admin/products/new")), **odd, "do": "save"},
        )
    ).status == 400
    # a code already used by another product is named as the problem
    fields = form_fields(
        page,
        "/admin/products/new",
        title="重复编码",
        spu_code="P1",
        category_id=str((await Category.get(name="5G手机")).id),
        merchant_id=str(await ensure_merchant()),
        price_0="1",
    )
    taken = await client.post("/admin/products/new", data=[*fields, ("do", "save")])
    assert taken.status == 409 and "商品编码 P1 已存在" in await taken.text()
    assert (await Product.get(spu_code="P1")).title == "Apple iPhone 15 手机"


async def test_agents_and_finance_may_not_touch_products(client):
    await seed_small_catalog()
    product_id = await _product_id("P1")
    for username, role in (("agent-1", StaffRole.AGENT), ("money-1", StaffRole.FINANCE)):
        csrf = await staff_signed_in(client, username, role)
        for path in (
            "/admin/products",
            "/admin/products/new",
            f"/admin/products/{product_id}",
            f"/admin/products/bulk?id={product_id}",
        ):
            assert (await client.get(path)).status == 403, path
        posts = {
            "/admin/products/new": {"do": "save", "title": "x"},
            f"/admin/products/{product_id}": {"do": "save", "title": "x"},
            f"/admin/products/{product_id}/status": {"status": "off_shelf"},
            "/admin/products/batch": {"do": "off_shelf", "id": str(product_id)},
            "/admin/products/bulk": {"sku": "1", "price_1": "0", "stock_1": "0", "stock_seen_1": "0"},
        }
        for path, data in posts.items():
            assert (await client.post(path, data={**data, "csrf_token": csrf})).status == 403, path
        await client.post("/admin/logout", data={"csrf_token": csrf})
    product = await Product.get(id=product_id)
    assert (product.status, product.title) == ("on_sale", "Apple iPhone 15 手机")


async def test_a_merchant_sees_and_changes_only_its_own_products(client):
    # given the demo products (the platform's own shop) and another merchant's clerk
    await seed_small_catalog()
    other = await ensure_merchant(code="other", name="别家")
    csrf = await staff_signed_in(client, "other-clerk", StaffRole.MERCHANT_STAFF, other)
    iphone = await _product_id("P1")
    sku = await Sku.get(sku_code="P1-B128")
    # then the list is empty of them, and every way to another's product is a 404
    assert "iPhone" not in await (await client.get("/admin/products")).text()
    assert (await client.get(f"/admin/products/{iphone}")).status == 404
    assert (await client.get(f"/admin/products/bulk?id={iphone}")).status == 404
    attempts = {
        f"/admin/products/{iphone}": {"do": "save", "title": "改掉"},
        f"/admin/products/{iphone}/status": {"status": "off_shelf"},
        "/admin/products/batch": {"do": "off_shelf", "id": str(iphone)},
        "/admin/products/bulk": {
            "sku": str(sku.id),
            f"price_{sku.id}": "1",
            f"stock_{sku.id}": "0",
            f"stock_seen_{sku.id}": "5",
        },
    }
    for path, data in attempts.items():
        assert (await client.post(path, data={**data, "csrf_token": csrf})).status == 404, path
    sku = await Sku.get(sku_code="P1-B128")
    assert (sku.price, sku.stock, (await Product.get(id=iphone)).status) == (599900, 5, "on_sale")
    # when the clerk creates a product with a forged merchant field, it is its own merchant's
    page = await (await client.get("/admin/products/new")).text()
    assert "或新建分类" not in page and 'name="merchant_id"' not in page
    category = await Category.get(name="5G手机")
    fields = form_fields(
        page,
        "/admin/products/new",
        title="别家的手机",
        category_id=str(category.id),
        price_0="99",
        merchant_id=str(await ensure_merchant()),
    )
    created = await client.post("/admin/products/new", data=[*fields, ("do", "save")], allow_redirects=False)
    assert created.status == 302
    mine = await Product.get(title="别家的手机")
    assert mine.merchant_id == other
    # a forged code of another merchant's product cannot take it over
    fields = form_fields(
        page, "/admin/products/new", title="冒名", spu_code="P1", category_id=str(category.id), price_0="1"
    )
    taken = await client.post("/admin/products/new", data=[*fields, ("do", "save")])
    assert taken.status == 409 and (await Product.get(spu_code="P1")).title == "Apple iPhone 15 手机"
    # a bulk submission mixing its own SKU with another's changes nothing at all
    own_sku = await Sku.get(product_id=mine.id)
    mixed = {
        "sku": [str(own_sku.id), str(sku.id)],
        f"price_{own_sku.id}": "1",
        f"stock_{own_sku.id}": "9",
        f"stock_seen_{own_sku.id}": "0",
        f"price_{sku.id}": "1",
        f"stock_{sku.id}": "0",
        f"stock_seen_{sku.id}": "5",
    }
    data = [("csrf_token", csrf)] + [
        (k, v) for k, vs in mixed.items() for v in ([vs] if isinstance(vs, str) else vs)
    ]
    assert (await client.post("/admin/products/bulk", data=data)).status == 404
    assert (await Sku.get(id=own_sku.id)).stock == 0 and (await Sku.get(id=sku.id)).price == 599900
    # and its own product it edits and shelves
    listed = await (await client.get("/admin/products")).text()
    assert "别家的手机" in listed and "iPhone" not in listed
    shelved = await client.post(
        f"/admin/products/{mine.id}/status", data={"csrf_token": csrf, "status": "on_sale"}
    )
    assert shelved.status == 200 and (await Product.get(id=mine.id)).status == "on_sale"


async def test_titles_and_spec_values_are_escaped_everywhere(client):
    await seed_small_catalog()
    await staff_signed_in(client, "boss")
    page = await (await client.get("/admin/products/new")).text()
    fields = form_fields(
        page,
        "/admin/products/new",
        title=XSS,
        category_id=str((await Category.get(name="5G手机")).id),
        merchant_id=str(await ensure_merchant()),
        axis_name_0="颜色",
        axis_values_0=XSS,
    )
    grid = await (await client.post("/admin/products/new", data=[*fields, ("do", "grid")])).text()
    saved = await client.post(
        "/admin/products/new",
        data=[*form_fields(grid, "/admin/products/new", price_0="1"), ("do", "save")],
        allow_redirects=False,
    )
    assert saved.status == 302
    product_id = (await Product.get(title=XSS)).id
    pages = {
        "grid": grid,
        "list": await (await client.get("/admin/products")).text(),
        "form": await (await client.get(f"/admin/products/{product_id}")).text(),
        "bulk": await (await client.get(f"/admin/products/bulk?id={product_id}")).text(),
    }
    for name, html in pages.items():
        assert XSS not in html, name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, name


async def test_orders_racing_a_save_and_a_bulk_edit_are_all_kept(client, simulator):
    # given the earbuds (30) open in the edit form and the bulk page, and shoppers ready to order
    await seed_small_catalog()
    await staff_signed_in(client, "boss")
    product_id = await _product_id("P2")
    action = f"/admin/products/{product_id}"
    form_page = await (await client.get(action)).text()
    bulk_page = await (await client.get(f"/admin/products/bulk?id={product_id}")).text()
    sku = await Sku.get(sku_code="P2-W")
    shoppers = []
    for name in ("s1", "s2", "s3", "s4"):
        headers = await auth_headers(client, simulator, name)
        address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
        shoppers.append((headers, address["id"]))

    def order(headers, address_id):
        body = {"items": [{"sku_id": sku.id, "quantity": 1}], "address_id": address_id}
        return client.post(
            "/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
        )

    # when four orders, a form save (+5) and a bulk save (-2) all happen at once
    results = await asyncio.gather(
        *(order(h, a) for h, a in shoppers),
        client.post(
            action,
            data=[*form_fields(form_page, action, stock_0="35"), ("do", "save")],
            allow_redirects=False,
        ),
        client.post(
            "/admin/products/bulk",
            data=form_fields(bulk_page, "/admin/products/bulk", **{f"stock_{sku.id}": "28"}),
            allow_redirects=False,
        ),
    )
    # then everything went through, and every change counts: 30 - 4 + 5 - 2
    assert [r.status for r in results] == [201] * 4 + [302, 302]
    assert (await Sku.get(id=sku.id)).stock == 29
    assert (await Product.get(id=product_id)).total_stock == 29


async def test_the_product_list_pages_through_many_products_keeping_its_filters(client):
    # given 25 draft products (a page holds 20)
    rows = [
        sku_row(
            f"PG{n:02d}",
            f"PG{n:02d}-1",
            title=f"翻页商品{n:02d}",
            category="数码 > 配件",
            price="1.00",
            status="draft",
        )
        for n in range(25)
    ]
    assert not (await import_rows(rows)).problems
    await create_platform_admin(username="boss", password=PASSWORD)
    await sign_in(client, "boss")
    # when the admin lists the drafts
    first = await (await client.get("/admin/products", params={"status": "draft"})).text()
    # then the first page shows the 20 newest and links to the next, keeping the filter
    assert "第 1 / 2 页" in first and "翻页商品24" in first and "翻页商品04" not in first
    assert "status=draft" in first and "page=2" in first and "上一页" not in first
    second = await (await client.get("/admin/products", params={"status": "draft", "page": "2"})).text()
    assert "第 2 / 2 页" in second and "翻页商品04" in second and "下一页" not in second
