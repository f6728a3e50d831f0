"""The mini-program's catalog endpoints, through the real app."""

import pytest

from commerce.catalog import services as catalog_services
from commerce.catalog.states import ProductStatus
from tests.factories import seed_small_catalog


@pytest.fixture
async def shop(client):
    await seed_small_catalog()
    return client


async def _products(client, query: str = "") -> dict:
    response = await client.get(f"/api/v1/products{query}")
    assert response.status == 200, await response.text()
    return await response.json()


async def _id_of(client, title_part: str) -> int:
    body = await _products(client, "?page_size=100")
    return next(item["id"] for item in body["items"] if title_part in item["title"])


async def test_categories_come_as_a_tree(shop):
    body = await (await shop.get("/api/v1/categories")).json()
    roots = {node["name"]: node for node in body["items"]}
    assert set(roots) >= {"数码", "食品生鲜"}
    phones = next(c for c in roots["数码"]["children"] if c["name"] == "手机")
    assert [c["name"] for c in phones["children"]] == ["5G手机"]
    assert phones["children"][0]["level"] == 3


async def test_listing_shows_only_what_is_on_sale_with_prices_in_fen(shop):
    body = await _products(shop)
    titles = {item["title"] for item in body["items"]}
    assert "未上架的草稿商品" not in titles
    assert body["total"] == 3
    iphone = next(item for item in body["items"] if "iPhone" in item["title"])
    assert (iphone["min_price"], iphone["max_price"]) == (599900, 699900)
    assert iphone["market_price"] == 699900
    assert iphone["in_stock"] is True


async def test_search_finds_products_by_chinese_words(shop):
    body = await _products(shop, "?q=苹果手机")
    assert "iPhone" in body["items"][0]["title"]
    body = await _products(shop, "?q=蓝牙耳机")
    assert "FreeBuds" in body["items"][0]["title"]


@pytest.mark.parametrize("typed", ["lanyaerji", "lyej", "耳鸡", "藍牙耳機"])
async def test_search_understands_pinyin_initials_homophones_and_traditional(shop, typed):
    # given the small catalog; when a shopper types the earphones as a phone keyboard lets them
    response = await shop.get("/api/v1/products", params={"q": typed})
    # then the earphones come back, and only they
    assert response.status == 200
    assert [item["title"] for item in (await response.json())["items"]] == ["华为 FreeBuds 蓝牙耳机"]


async def test_filters_sorts_and_paging(shop):
    # a category includes its descendants
    categories = await (await shop.get("/api/v1/categories")).json()
    digital = next(node["id"] for node in categories["items"] if node["name"] == "数码")
    body = await _products(shop, f"?category_id={digital}&sort=price_asc")
    assert [item["min_price"] for item in body["items"]] == [79900, 599900]
    # in stock only drops the sold-out oranges
    body = await _products(shop, "?in_stock=true")
    assert all(item["in_stock"] for item in body["items"]) and body["total"] == 2
    # price range in fen
    body = await _products(shop, "?min_price=1000&max_price=100000")
    assert {item["min_price"] for item in body["items"]} == {3990, 79900}
    # paging
    first = await _products(shop, "?page=1&page_size=2&sort=price_desc")
    second = await _products(shop, "?page=2&page_size=2&sort=price_desc")
    assert (first["total"], len(first["items"]), len(second["items"])) == (3, 2, 1)
    assert first["items"][0]["min_price"] == 599900


async def test_product_detail_has_its_skus(shop):
    product_id = await _id_of(shop, "iPhone")
    body = await (await shop.get(f"/api/v1/products/{product_id}")).json()
    assert body["category"]["path_names"] == ["数码", "手机", "5G手机"]
    assert [axis["name"] for axis in body["spec_axes"]] == ["颜色", "容量"]
    skus = {sku["sku_code"]: sku for sku in body["skus"]}
    assert skus["P1-B128"]["specs"] == {"颜色": "黑色", "容量": "128GB"}
    assert (skus["P1-B128"]["price"], skus["P1-B128"]["stock"]) == (599900, 5)
    assert {"id", "specs", "price", "stock"} <= set(skus["P1-B256"])


async def test_a_product_taken_off_sale_disappears_from_listing_and_detail(shop):
    product_id = await _id_of(shop, "FreeBuds")
    await catalog_services.change_product_status(product_id=product_id, new_status=ProductStatus.OFF_SHELF)
    assert (await shop.get(f"/api/v1/products/{product_id}")).status == 404
    body = await _products(shop, "?q=蓝牙耳机")
    assert all(item["id"] != product_id for item in body["items"])


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("?page_size=101", 400, "invalid_request"),
        ("?page_size=0", 400, "invalid_request"),
        ("?page=abc", 400, "invalid_request"),
        ("?sort=cheapest", 400, "invalid_request"),
        ("?min_price=-1", 400, "invalid_request"),
        ("?in_stock=maybe", 400, "invalid_request"),
        ("?category_id=999999", 404, "category_not_found"),
        ("?category_id=99999999999999999999", 400, "invalid_request"),
        ("?q=" + "长" * 101, 400, "invalid_request"),
    ],
)
async def test_bad_listing_parameters_get_a_clear_4xx(shop, query, status, code):
    response = await shop.get(f"/api/v1/products{query}")
    assert response.status == status
    body = await response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/999999",
        "/api/v1/products/abc",
        "/api/v1/products/99999999999999",
        "/api/v1/products/%C2%B9",
    ],
)
async def test_unknown_products_are_404(shop, path):
    response = await shop.get(path)
    assert response.status == 404
    assert (await response.json())["error"]["code"] in {"product_not_found", "not_found"}
