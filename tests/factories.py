"""Build test data through the same services the product uses."""

from __future__ import annotations

from commerce.catalog.importer import import_rows


def sku_row(
    spu: str,
    sku: str,
    *,
    title: str,
    category: str,
    price: str,
    stock: int = 10,
    specs: str = "",
    status: str = "on_sale",
    subtitle: str = "",
    market_price: str = "",
) -> dict[str, str]:
    return {
        "category": category,
        "spu_code": spu,
        "title": title,
        "subtitle": subtitle,
        "specs": specs,
        "sku_code": sku,
        "price": price,
        "market_price": market_price,
        "stock": str(stock),
        "images": f"https://img.example.com/{spu}/1.jpg",
        "status": status,
    }


SMALL_CATALOG = [
    sku_row(
        "P1",
        "P1-B128",
        title="Apple iPhone 15 手机",
        category="数码 > 手机 > 5G手机",
        price="5999.00",
        market_price="6999.00",
        specs="颜色:黑色;容量:128GB",
        stock=5,
    ),
    sku_row(
        "P1",
        "P1-B256",
        title="Apple iPhone 15 手机",
        category="数码 > 手机 > 5G手机",
        price="6999.00",
        specs="颜色:黑色;容量:256GB",
        stock=0,
    ),
    sku_row(
        "P2",
        "P2-W",
        title="华为 FreeBuds 蓝牙耳机",
        category="数码 > 耳机 > 蓝牙耳机",
        price="799.00",
        specs="颜色:白色",
        stock=30,
    ),
    sku_row(
        "P3", "P3-5KG", title="赣南脐橙 5斤装", category="食品生鲜 > 水果 > 柑橘", price="39.90", stock=0
    ),
    sku_row(
        "P4", "P4-1", title="未上架的草稿商品", category="数码 > 手机 > 5G手机", price="1.00", status="draft"
    ),
]


async def seed_small_catalog() -> None:
    report = await import_rows(SMALL_CATALOG)
    assert not report.problems, report.problems


async def restore_refund_from(conn) -> None:
    """Put back `shop_order.refund_from` (where an old whole-order refund was asked from), which
    migration 0013 drops after after-sales read it: the upgrades of old data still read it."""
    rows = await conn.execute_query_dict("SELECT * FROM `shop_order` LIMIT 1")
    columns = rows[0] if rows else None
    if columns is None:  # an empty table says nothing: ask the schema
        mysql = conn.capabilities.dialect == "mysql"
        query = (
            "SELECT column_name AS name FROM information_schema.columns"
            " WHERE table_schema = DATABASE() AND table_name = 'shop_order'"
            if mysql
            else "SELECT name FROM pragma_table_info('shop_order')"
        )
        columns = {row["name"] for row in await conn.execute_query_dict(query)}
    if "refund_from" not in columns:
        await conn.execute_script(
            "ALTER TABLE `shop_order` ADD COLUMN `refund_from` VARCHAR(20) NOT NULL DEFAULT ''"
        )
