"""Every process's index catches up with changes made anywhere (here: through another index's
process, simulated by a second CatalogSearch over the same database)."""

from commerce.catalog import services
from commerce.catalog.importer import import_rows
from commerce.catalog.search import CatalogSearch, SearchParams
from commerce.catalog.states import ProductStatus
from tests.factories import SMALL_CATALOG, seed_small_catalog, sku_row


async def _titles(index: CatalogSearch, query: str = "", **filters) -> list[str]:
    hits = await index.search(SearchParams(text=query, limit=50, **filters))
    return [card.title for card in hits.items]


async def test_an_index_sees_changes_made_by_another_process(db):
    # given a process whose index is built
    await seed_small_catalog()
    watching = CatalogSearch(refresh_seconds=0)
    await watching.rebuild()
    assert "华为 FreeBuds 蓝牙耳机" in await _titles(watching, "耳机")
    # when another process imports a new product and renames one
    report = await import_rows(
        [
            sku_row(
                "P9", "P9-1", title="索尼 降噪蓝牙耳机", category="数码 > 耳机 > 蓝牙耳机", price="1299.00"
            ),
            {**SMALL_CATALOG[2], "title": "华为 FreeBuds Pro 无线耳机"},
        ]
    )
    assert not report.problems
    # then the first process finds both on its next search
    titles = await _titles(watching, "耳机")
    assert "索尼 降噪蓝牙耳机" in titles
    assert "华为 FreeBuds Pro 无线耳机" in titles
    assert "华为 FreeBuds 蓝牙耳机" not in titles


async def test_price_and_stock_changes_and_removals_reach_the_index(db):
    await seed_small_catalog()
    watching = CatalogSearch(refresh_seconds=0)
    await watching.rebuild()
    # a price cut on the iPhone's SKUs (only SKU rows change)
    cheaper = [{**row, "price": "4999.00"} if row["spu_code"] == "P1" else row for row in SMALL_CATALOG]
    assert not (await import_rows(cheaper)).problems
    iphone = (await watching.search(SearchParams(text="iphone"))).items[0]
    assert iphone.min_price == 499900
    # stock runs out: the in-stock filter drops it
    sold_out = [{**row, "stock": "0"} if row["spu_code"] == "P2" else row for row in cheaper]
    assert not (await import_rows(sold_out)).problems
    assert "华为 FreeBuds 蓝牙耳机" not in await _titles(watching, in_stock=True)
    # taken off sale: gone from search and listing
    await services.change_product_status(product_id=iphone.id, new_status=ProductStatus.OFF_SHELF)
    assert await _titles(watching, "iphone") == []
    assert all("iPhone" not in title for title in await _titles(watching))


async def test_with_a_refresh_interval_the_database_is_asked_at_most_that_often(db):
    await seed_small_catalog()
    lazy = CatalogSearch(refresh_seconds=3600)
    await lazy.rebuild()
    await import_rows(
        [sku_row("P9", "P9-1", title="索尼 降噪蓝牙耳机", category="数码 > 耳机 > 蓝牙耳机", price="9.00")]
    )
    # within the interval the index serves what it has (a cache, by design)
    assert "索尼 降噪蓝牙耳机" not in await _titles(lazy, "耳机")


async def test_pinyin_and_traditional_titles_follow_changes_made_elsewhere(db):
    # given a process whose index is built
    await seed_small_catalog()
    watching = CatalogSearch(refresh_seconds=0)
    await watching.rebuild()
    assert await _titles(watching, "luosifen") == []
    # when another process imports a product with a new word, and one titled in traditional characters
    report = await import_rows(
        [
            sku_row(
                "P8", "P8-1", title="柳州 螺蛳粉 5袋装", category="食品生鲜 > 速食 > 米粉", price="39.90"
            ),
            sku_row("P9", "P9-1", title="便攜 藍牙音箱", category="数码 > 影音 > 蓝牙音箱", price="199.00"),
        ]
    )
    assert not report.problems
    # then the first process finds them by pinyin, initials, and in simplified characters
    assert await _titles(watching, "luosifen") == ["柳州 螺蛳粉 5袋装"]
    assert await _titles(watching, "lsf") == ["柳州 螺蛳粉 5袋装"]
    assert await _titles(watching, "蓝牙音箱") == ["便攜 藍牙音箱"]
    # and when the product is taken off sale, its word's pinyin finds nothing any more
    noodles = (await watching.search(SearchParams(text="螺蛳粉"))).items[0]
    await services.change_product_status(product_id=noodles.id, new_status=ProductStatus.OFF_SHELF)
    assert await _titles(watching, "luosifen") == []
