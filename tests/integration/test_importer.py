"""Importing a catalog file: CSV (UTF-8 with BOM, GB18030) and Excel, updates, bad rows."""

import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from commerce.catalog.catalog_file import CatalogFileError, read_catalog_file
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Category, Product, Sku

HEADER = [
    "category",
    "spu_code",
    "title",
    "subtitle",
    "specs",
    "sku_code",
    "price",
    "market_price",
    "stock",
    "images",
    "status",
]
ROWS = [
    [
        "数码 > 手机 > 5G手机",
        "P1",
        "Apple iPhone 15",
        "A16",
        "颜色:黑色;容量:128GB",
        "P1-B1",
        "5999.00",
        "6999.00",
        "10",
        "https://a/1.jpg https://a/2.jpg",
        "on_sale",
    ],
    [
        "数码 > 手机 > 5G手机",
        "P1",
        "Apple iPhone 15",
        "A16",
        "颜色:黑色;容量:256GB",
        "P1-B2",
        "6999.00",
        "",
        "5",
        "",
        "on_sale",
    ],
    ["食品生鲜 > 水果 > 柑橘", "P2", "赣南脐橙 5斤", "", "", "P2-1", "39.9", "", "100", "", "draft"],
]


def _csv(path: Path, rows, *, encoding="utf-8-sig", header=HEADER) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


async def test_a_csv_with_bom_loads_products_skus_and_categories(db, tmp_path):
    # given a UTF-8 CSV as Excel saves it (with a BOM)
    file = _csv(tmp_path / "catalog.csv", ROWS)
    # when imported
    report = await import_rows(read_catalog_file(file))
    # then
    assert (report.loaded_rows, report.created_products, report.problems) == (3, 2, [])
    iphone = await Product.get(spu_code="P1")
    assert (iphone.title, iphone.min_price, iphone.max_price, iphone.total_stock) == (
        "Apple iPhone 15",
        599900,
        699900,
        15,
    )
    assert iphone.spec_axes == [
        {"name": "颜色", "values": ["黑色"]},
        {"name": "容量", "values": ["128GB", "256GB"]},
    ]
    assert iphone.images == ["https://a/1.jpg", "https://a/2.jpg"]
    sku = await Sku.get(sku_code="P1-B1")
    assert (sku.price, sku.market_price, sku.stock, sku.specs) == (
        599900,
        699900,
        10,
        {"颜色": "黑色", "容量": "128GB"},
    )
    oranges = await Product.get(spu_code="P2").prefetch_related("category")
    assert (oranges.status, oranges.min_price) == ("draft", 3990)
    leaf = await Category.get(name="柑橘")
    assert leaf.level == 3 and leaf.path.count("/") == 4


async def test_a_gb18030_csv_loads_too(db, tmp_path):
    file = _csv(tmp_path / "catalog.csv", ROWS, encoding="gb18030")
    report = await import_rows(read_catalog_file(file))
    assert report.loaded_rows == 3
    assert await Product.get_or_none(title="赣南脐橙 5斤") is not None


async def test_an_excel_file_loads(db, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in ROWS:
        # Excel keeps numbers as numbers: 10 comes back as 10 (int), 39.9 as a float
        sheet.append([int(c) if c.isdigit() else c for c in row])
    path = tmp_path / "catalog.xlsx"
    workbook.save(path)
    report = await import_rows(read_catalog_file(path))
    assert (report.loaded_rows, report.problems) == (3, [])
    assert (await Sku.get(sku_code="P2-1")).price == 3990


async def test_importing_the_same_file_again_updates_instead_of_duplicating(db, tmp_path):
    await import_rows(read_catalog_file(_csv(tmp_path / "a.csv", ROWS)))
    changed = [row[:6] + (["5499.00"] if row[5] == "P1-B1" else [row[6]]) + row[7:] for row in ROWS[:2]]
    report = await import_rows(read_catalog_file(_csv(tmp_path / "b.csv", [*changed, ROWS[2]])))
    assert (report.created_products, report.updated_products) == (0, 2)
    assert await Product.all().count() == 2 and await Sku.all().count() == 3
    assert await Category.filter(name="5G手机").count() == 1
    assert (await Product.get(spu_code="P1")).min_price == 549900


async def test_bad_rows_are_reported_by_row_number_and_good_rows_still_load(db, tmp_path):
    rows = [
        ROWS[0],
        ROWS[1],
        [
            "食品生鲜 > 水果",
            "P3",
            "烟台苹果",
            "",
            "",
            "P3-1",
            "abc",
            "",
            "10",
            "",
            "on_sale",
        ],  # row 4: bad price
        [
            "食品生鲜 > 水果",
            "P4",
            "阿克苏苹果",
            "",
            "",
            "P4-1",
            "29.90",
            "",
            "-5",
            "",
            "on_sale",
        ],  # row 5: bad stock
        [
            "食品生鲜 > 水果",
            "P5",
            "洛川苹果",
            "",
            "",
            "P5-1",
            "19.90",
            "",
            "10",
            "",
            "for_sale",
        ],  # row 6: status
        [
            "食品生鲜 > 水果",
            "P6",
            "静宁苹果",
            "",
            "规格",
            "P6-1",
            "19.90",
            "",
            "10",
            "",
            "on_sale",
        ],  # row 7: specs
        ["食品生鲜 > 水果", "", "无编码", "", "", "P7-1", "1.00", "", "1", "", "on_sale"],  # row 8: no spu
        [
            "食品生鲜 > 水果",
            "P8",
            "昭通苹果",
            "",
            "",
            "P1-B1",
            "9.90",
            "",
            "1",
            "",
            "on_sale",
        ],  # row 9: sku taken
        [
            "食品生鲜 > 水果",
            "P9",
            "丑苹果",
            "",
            "",
            "P9-1",
            "9.999",
            "",
            "1",
            "",
            "on_sale",
        ],  # row 10: 3 decimals
    ]
    report = await import_rows(read_catalog_file(_csv(tmp_path / "c.csv", rows)))
    assert report.loaded_rows == 2
    assert [p.row for p in report.problems] == [4, 5, 6, 7, 8, 9, 10]
    assert all(p.reason for p in report.problems)
    assert "价格" in report.problems[0].reason and "库存" in report.problems[1].reason
    assert "SKU 编码" in report.problems[5].reason
    assert await Product.filter(spu_code__in=["P3", "P4", "P5", "P6", "P8", "P9"]).count() == 0
    assert report.summary() == "导入完成：成功 2 行（新建 1 个商品，更新 0 个商品），7 行有问题未导入"


async def test_a_product_whose_rows_disagree_is_rejected_whole(db, tmp_path):
    rows = [ROWS[0], [*ROWS[1][:2], "另一个标题", *ROWS[1][3:]], ROWS[2]]
    report = await import_rows(read_catalog_file(_csv(tmp_path / "d.csv", rows)))
    assert [p.row for p in report.problems] == [2, 3]
    assert await Product.get_or_none(spu_code="P1") is None
    assert await Product.get_or_none(spu_code="P2") is not None


async def test_one_bad_sku_row_names_itself_and_its_siblings_point_to_it(db, tmp_path):
    rows = [ROWS[0], [*ROWS[1][:6], "免费", *ROWS[1][7:]]]
    report = await import_rows(read_catalog_file(_csv(tmp_path / "e.csv", rows)))
    assert [p.row for p in report.problems] == [2, 3]
    assert "第 3 行" in report.problems[0].reason
    assert "价格" in report.problems[1].reason


async def test_a_missing_required_column_refuses_the_whole_file(db, tmp_path):
    without_stock = [h for h in HEADER if h != "stock"]
    file = _csv(tmp_path / "f.csv", [r[:8] + r[9:] for r in ROWS], header=without_stock)
    with pytest.raises(CatalogFileError, match="stock"):
        list(read_catalog_file(file))
    assert await Product.all().count() == 0


def test_unsupported_files_are_refused(tmp_path):
    with pytest.raises(CatalogFileError):
        read_catalog_file(tmp_path / "catalog.pdf")
