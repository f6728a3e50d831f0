"""Importing and exporting products in the admin web: a background job whose progress any page
can show, a per-row error report, merchants kept to their own products, and exports in the
importer's own format so that a file goes out, is edited in Excel and comes back."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from dataclasses import asdict

from openpyxl import Workbook, load_workbook

from commerce import clock
from commerce.audit.models import AuditEntry
from commerce.catalog.catalog_file import COLUMNS
from commerce.catalog.import_jobs import ImportJob, JobStatus
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Category, Product, Sku
from commerce.merchants.services import ensure_merchant
from commerce.staff.models import StaffAccount
from commerce.staff.services import create_platform_admin
from commerce.staff.states import StaffRole
from shop.app import CORE
from tests.builders import add_staff, csrf_of, import_job_result, imported_catalog, sign_in, upload_catalog
from tests.factories import seed_small_catalog, sku_row

HEADER = list(COLUMNS)
GOOD_ROWS = [
    [
        "数码 > 手机 > 5G手机",
        "N1",
        "新款手机",
        "",
        "颜色:黑色",
        "N1-B",
        "1999.00",
        "",
        "10",
        "",
        "on_sale",
        "",
    ],
    [
        "数码 > 手机 > 5G手机",
        "N1",
        "新款手机",
        "",
        "颜色:白色",
        "N1-W",
        "2099.00",
        "",
        "5",
        "",
        "on_sale",
        "",
    ],
    ["食品生鲜 > 水果", "N2", "烟台苹果", "", "", "N2-1", "29.90", "", "100", "", "draft", ""],
]
BAD_ROWS = [
    ["食品生鲜 > 水果", "N3", "阿克苏苹果", "", "", "N3-1", "免费", "", "10", "", "on_sale", ""],  # row 5
    ["食品生鲜 > 水果", "N4", "<script>alert(1)</script>", "", "", "N4-1", "9.90", "", "-1", "", "", ""],
    ["食品生鲜 > 水果", "N5", "洛川苹果", "", "", "N5-1", "9.90", "", "1", "", "", "nobody"],  # row 7
]


def _csv(rows, *, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append([int(cell) if cell.isdigit() else cell for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def _download_rows(client, query: str) -> tuple[bytes, list[list[str]]]:
    response = await client.get(f"/admin/products/export?{query}")
    assert response.status == 200
    body = await response.read()
    return body, list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_a_csv_import_loads_the_good_rows_and_reports_the_bad_ones(client):
    # given a platform admin and a file with three good rows and three bad ones
    await create_platform_admin(username="boss", password="a-long-password-1")
    await sign_in(client, "boss")
    page = await (await client.get("/admin/products/import")).text()
    assert "spu_code" in page and "template.xlsx" in page and "5 MB" in page
    # when they upload it
    job = await imported_catalog(client, "商品.csv", _csv(GOOD_ROWS + BAD_ROWS))
    # then the good products are in the catalog, the bad ones are not
    assert job["status"] == "done" and job["status_text"] == "已完成"
    assert (job["rows_read"], job["products_total"], job["products_done"]) == (6, 5, 5)
    assert (job["created"], job["updated"], job["loaded_rows"], job["failed_rows"]) == (2, 0, 3, 3)
    assert (await Sku.get(sku_code="N1-W")).price == 209900
    assert (await Product.get(spu_code="N2")).status == "draft"
    assert not await Product.filter(spu_code__in=["N3", "N4", "N5"]).exists()
    # and the job page lists each bad row: its number in the sheet, its code and why
    html = await (await client.get(job["location"])).text()
    assert "已完成" in html and "未导入的行（3 行）" in html
    assert re.search(r"第 5 行</td><td>N3</td>.*价格", html)
    assert re.search(r"第 6 行</td><td>N4</td>.*库存", html)
    assert re.search(r"第 7 行</td><td>N5</td>.*商户「nobody」不存在", html)
    # a title that is a script is shown as text, never run
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    # and the report downloads as a CSV Excel opens
    report = await client.get(f"{job['location']}/errors.csv")
    body = await report.read()
    assert report.status == 200 and body.startswith(b"\xef\xbb\xbf")
    assert "attachment" in report.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert [line[:2] for line in lines[1:]] == [["5", "N3"], ["6", "N4"], ["7", "N5"]]
    # and the audit log has the import once, with its counts
    entry = await AuditEntry.get(action="product.import")
    assert "新建 2 个商品" in entry.summary and "失败 3 行" in entry.summary


async def test_an_excel_file_and_a_gb18030_csv_import_too(client):
    await create_platform_admin(username="boss", password="a-long-password-1")
    await sign_in(client, "boss")
    # an .xlsx, uploaded under a name that says nothing: the content decides
    job = await imported_catalog(client, "upload", _xlsx(GOOD_ROWS), "application/octet-stream")
    assert (job["status"], job["created"], job["failed_rows"]) == ("done", 2, 0)
    assert (await Sku.get(sku_code="N2-1")).price == 2990
    # and a CSV as a Chinese Excel saves it
    again = await imported_catalog(client, "gbk.csv", _csv(GOOD_ROWS, encoding="gb18030"))
    assert (again["status"], again["created"], again["updated"]) == ("done", 0, 2)


async def test_files_that_are_no_catalog_are_refused_at_once(client):
    await create_platform_admin(username="boss", password="a-long-password-1")
    await sign_in(client, "boss")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + secrets.token_bytes(64)
    refused = {
        "image.csv": (png, "只支持 CSV"),
        "report.xlsx": (_zip_without_workbook(), "不是 Excel 工作簿"),
        "old.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "旧版 Excel"),
        "other.csv": ("name,price\n苹果,1\n".encode(), "缺少必需的列"),
        "huge.csv": (_csv(GOOD_ROWS) + b"x" * (5 * 1024 * 1024), "5 MB"),
    }
    for filename, (content, reason) in refused.items():
        response = await upload_catalog(client, filename, content)
        assert response.status == 400, filename
        assert reason in await response.text(), filename
    assert not await Product.exists() and not await AuditEntry.filter(action="product.import").exists()


def _zip_without_workbook() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


async def test_a_job_is_only_its_starters(client):
    await create_platform_admin(username="boss", password="a-long-password-1")
    await create_platform_admin(username="boss-2", password="a-long-password-1")
    await sign_in(client, "boss")
    job = await imported_catalog(client, "a.csv", _csv(GOOD_ROWS + BAD_ROWS))
    page = await (await client.get("/admin/")).text()
    await client.post("/admin/logout", data={"csrf_token": csrf_of(page)})
    # when another admin opens the same job
    await sign_in(client, "boss-2")
    for path in (job["location"], f"{job['location']}.json", f"{job['location']}/errors.csv"):
        assert (await client.get(path)).status == 404, path
    # and a made-up id is no job either
    assert (await client.get("/admin/products/import/" + "a" * 24)).status == 404


async def test_a_job_whose_process_died_is_shown_interrupted(client):
    # given a job left running by a process that stopped two minutes ago
    await create_platform_admin(username="boss", password="a-long-password-1")
    await sign_in(client, "boss")
    boss = await StaffAccount.get(username="boss")
    started = clock.now().timestamp() - 120
    job = ImportJob("d" * 24, boss.id, "big.xlsx", JobStatus.RUNNING, started_at=started, heartbeat=started)
    job.rows_read, job.products_total, job.products_done = 900, 300, 120
    record = json.dumps({**asdict(job), "status": "running"})
    await client.app[CORE].redis.set(f"catalog:import:{job.id}", record, ex=3600)
    # then its page says it stopped, rather than running forever
    state = await (await client.get(f"/admin/products/import/{job.id}.json")).json()
    assert (state["status"], state["status_text"], state["products_done"]) == ("interrupted", "已中断", 120)
    html = await (await client.get(f"/admin/products/import/{job.id}")).text()
    assert "已中断" in html and "product_import.js" not in html


async def test_a_running_job_page_updates_itself_without_inline_script(client):
    # given a job another process of ours is running right now
    await create_platform_admin(username="boss", password="a-long-password-1")
    await sign_in(client, "boss")
    boss = await StaffAccount.get(username="boss")
    now = clock.now().timestamp()
    job = ImportJob("r" * 24, boss.id, "big.csv", JobStatus.RUNNING, started_at=now, heartbeat=now)
    job.rows_read, job.products_total, job.products_done = 900, 300, 75
    record = json.dumps({**asdict(job), "status": "running"})
    await client.app[CORE].redis.set(f"catalog:import:{job.id}", record, ex=3600)
    # then its page shows the progress and keeps it current: a static script polls the JSON,
    # and without JavaScript the page refreshes itself
    html = await (await client.get(f"/admin/products/import/{job.id}")).text()
    assert "导入中" in html and 'value="25"' in html
    assert '<script src="/admin/static/product_import.js" defer></script>' in html
    assert 'http-equiv="refresh"' in html and "<script>" not in html
    assert f'data-status-url="/admin/products/import/{job.id}.json"' in html
    assert (await client.get("/admin/static/product_import.js")).status == 200


async def test_one_import_at_a_time_per_person(client):
    # given a large import under way
    await create_platform_admin(username="boss", password="a-long-password-1")
    await sign_in(client, "boss")
    rows = [
        sku_row(f"R{i}", f"R{i}-1", title=f"商品{i}", category="数码 > 配件", price="1.00")
        for i in range(200)
    ]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    first = await upload_catalog(client, "many.csv", buffer.getvalue().encode())
    assert first.status == 303
    # when the same person uploads again before it has finished (a double click)
    second = await upload_catalog(client, "many.csv", buffer.getvalue().encode())
    # then the second is refused, pointing at the first, which goes on to load everything
    assert second.status == 400 and "正在进行" in await second.text()
    assert first.headers["Location"] in await second.text()
    assert (await import_job_result(client, first.headers["Location"]))["created"] == 200
    assert await Product.filter(spu_code__startswith="R").count() == 200
    assert await AuditEntry.filter(action="product.import").count() == 1


async def test_a_merchant_imports_into_its_own_shop_and_cannot_take_over_another(client):
    # given the platform's products and a second merchant's owner
    await seed_small_catalog()
    other = await ensure_merchant(code="other", name="别家")
    await add_staff("other-owner", StaffRole.MERCHANT_OWNER, other)
    await sign_in(client, "other-owner")
    page = await (await client.get("/admin/products/import")).text()
    assert "只能导入本商户的商品" in page
    # when they import their own product, the platform's P1 under its code, and a row for "self"
    rows = [
        ["食品生鲜 > 水果", "O1", "别家苹果", "", "", "O1-1", "9.90", "", "5", "", "on_sale", ""],
        ["食品生鲜 > 水果", "O2", "别家梨", "", "", "O2-1", "9.90", "", "5", "", "on_sale", "other"],
        ["数码 > 手机 > 5G手机", "P1", "抢来的手机", "", "", "P1-X", "1.00", "", "5", "", "on_sale", ""],
        ["食品生鲜 > 水果", "O3", "冒名的橙子", "", "", "O3-1", "9.90", "", "5", "", "on_sale", "self"],
    ]
    job = await imported_catalog(client, "mine.csv", _csv(rows))
    # then their own products load into their shop
    assert (job["status"], job["created"], job["failed_rows"]) == ("done", 2, 2)
    assert await Product.filter(spu_code__in=["O1", "O2"], merchant_id=other).count() == 2
    # and the other merchant's product is a row error, unchanged
    html = await (await client.get(job["location"])).text()
    assert re.search(r"第 4 行</td><td>P1</td>.*商品编码已被其他商家使用", html)
    assert re.search(r"第 5 行</td><td>O3</td>.*只能导入本商户的商品", html)
    iphone = await Product.get(spu_code="P1")
    assert iphone.title == "Apple iPhone 15 手机" and iphone.merchant_id != other
    assert await Sku.filter(product_id=iphone.id).count() == 2
    assert not await Product.filter(spu_code="O3").exists()


async def _two_merchants_catalog() -> int:
    await seed_small_catalog()
    other = await ensure_merchant(code="other", name="别家")
    row = sku_row("O1", "O1-1", title="别家苹果", category="食品生鲜 > 水果", price="9.90")
    report = await import_rows([{**row, "merchant": "other"}])
    assert not report.problems
    return other


async def test_exports_hold_the_platforms_products_or_only_the_merchants_own(client):
    other = await _two_merchants_catalog()
    await create_platform_admin(username="boss", password="a-long-password-1")
    await sign_in(client, "boss")
    # the platform gets every SKU, one row each, in the importer's columns
    body, rows = await _download_rows(client, "format=csv")
    assert body.startswith(b"\xef\xbb\xbf") and rows[0] == HEADER
    assert sorted(row[5] for row in rows[1:]) == ["O1-1", "P1-B128", "P1-B256", "P2-W", "P3-5KG", "P4-1"]
    first = dict(zip(HEADER, rows[1], strict=True))
    assert first == {
        "category": "数码 > 手机 > 5G手机",
        "spu_code": "P1",
        "title": "Apple iPhone 15 手机",
        "subtitle": "",
        "specs": "颜色:黑色;容量:128GB",
        "sku_code": "P1-B128",
        "price": "5999.00",
        "market_price": "6999.00",
        "stock": "5",
        "images": "https://img.example.com/P1/1.jpg",
        "status": "on_sale",
        "merchant": "self",
    }
    # filtered as the products list is
    assert [r[5] for r in (await _download_rows(client, "status=draft"))[1][1:]] == ["P4-1"]
    assert [r[5] for r in (await _download_rows(client, f"merchant_id={other}&q=苹果"))[1][1:]] == ["O1-1"]
    assert {r[1] for r in (await _download_rows(client, "stock=sold_out&nonsense=1"))[1][1:]} == {"P3"}
    digital = (await Category.get(name="数码", level=1)).id
    phones = (await _download_rows(client, f"category={digital}&stock=low"))[1][1:]
    assert {r[1] for r in phones} == {"P1", "P4"}  # 数码 and everything under it, at most 10 left
    low = (await _download_rows(client, f"category_id={digital + 100}&stock=low"))[1][1:]
    assert low == []  # a category that does not exist holds nothing
    # the same as an Excel file
    xlsx = await client.get("/admin/products/export?format=xlsx")
    assert xlsx.status == 200 and "spreadsheetml" in xlsx.headers["Content-Type"]
    sheet = load_workbook(io.BytesIO(await xlsx.read())).worksheets[0]
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == HEADER and len(cells) == 7
    assert await AuditEntry.filter(action="product.export").count() == 7  # one per download
    page = await (await client.get("/admin/")).text()
    await client.post("/admin/logout", data={"csrf_token": csrf_of(page)})
    # a merchant's people get their own products only, whatever the URL asks
    await add_staff("other-clerk", StaffRole.MERCHANT_STAFF, other)
    await sign_in(client, "other-clerk")
    own = (await _download_rows(client, f"format=csv&merchant_id={await ensure_merchant()}"))[1]
    assert [row[5] for row in own[1:]] == ["O1-1"]
    own_xlsx = await client.get("/admin/products/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(await own_xlsx.read())).worksheets[0]
    assert [row[5] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["O1-1"]


async def test_an_exported_file_edited_and_imported_again_updates_the_same_products(client):
    # given a catalog with a title a spreadsheet would take for a formula
    other = await _two_merchants_catalog()
    await Product.filter(spu_code="P2").update(title='=HYPERLINK("http://evil")', description="详情")
    await Product.filter(spu_code="P3").update(status="off_shelf")
    await create_platform_admin(username="boss", password="a-long-password-1")
    await sign_in(client, "boss")
    _, rows = await _download_rows(client, "format=csv")
    edited = [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]
    earphones = next(row for row in edited if row["sku_code"] == "P2-W")
    assert earphones["title"] == '\'=HYPERLINK("http://evil")'  # guarded in the file
    # when a price and a stock are changed in the file and it is imported again
    for row in edited:
        if row["sku_code"] == "P1-B256":
            row["price"], row["stock"] = "6499.00", "7"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(edited)
    job = await imported_catalog(client, "edited.csv", buffer.getvalue().encode("utf-8-sig"))
    # then the same products are updated, none created, nothing else changed
    assert (job["status"], job["created"], job["updated"], job["failed_rows"]) == ("done", 0, 5, 0)
    assert await Product.all().count() == 5 and await Sku.all().count() == 6
    changed = await Sku.get(sku_code="P1-B256")
    assert (changed.price, changed.stock) == (649900, 7)
    p2 = await Product.get(spu_code="P2")
    assert (p2.title, p2.description) == ('=HYPERLINK("http://evil")', "详情")
    assert (await Product.get(spu_code="O1")).merchant_id == other
    assert (await Product.get(spu_code="P3")).status == "off_shelf"
    # and an Excel export comes back the same way
    xlsx = await (await client.get("/admin/products/export?format=xlsx")).read()
    again = await imported_catalog(client, "edited.xlsx", xlsx, "application/octet-stream")
    assert (again["status"], again["created"], again["updated"], again["failed_rows"]) == ("done", 0, 5, 0)
    assert (await Sku.get(sku_code="P3-5KG")).price == 3990
    assert (await Product.get(spu_code="P2")).title == '=HYPERLINK("http://evil")'


async def test_agents_and_finance_may_neither_import_nor_export(client):
    await create_platform_admin(username="boss", password="a-long-password-1")
    await sign_in(client, "boss")
    job = await imported_catalog(client, "a.csv", _csv(GOOD_ROWS))
    page = await (await client.get("/admin/")).text()
    await client.post("/admin/logout", data={"csrf_token": csrf_of(page)})
    await add_staff("agent-1", StaffRole.AGENT)
    await add_staff("finance-1", StaffRole.FINANCE)
    for username in ("agent-1", "finance-1"):
        await sign_in(client, username)
        for path in (
            "/admin/products/import",
            "/admin/products/import/template.csv",
            "/admin/products/import/template.xlsx",
            job["location"],
            f"{job['location']}.json",
            f"{job['location']}/errors.csv",
            "/admin/products/export?format=csv",
            "/admin/products/export?format=xlsx",
        ):
            assert (await client.get(path)).status == 403, (username, path)
        assert (await upload_catalog(client, "b.csv", _csv(GOOD_ROWS))).status == 403
        page = await (await client.get("/admin/")).text()
        await client.post("/admin/logout", data={"csrf_token": csrf_of(page)})
    assert not await AuditEntry.filter(action="product.export").exists()


async def test_the_templates_download_in_the_importers_format(client):
    await create_platform_admin(username="boss", password="a-long-password-1")
    await sign_in(client, "boss")
    template = await client.get("/admin/products/import/template.csv")
    rows = list(csv.reader(io.StringIO((await template.read()).decode("utf-8-sig"))))
    assert rows[0] == HEADER and len(rows) > 2
    workbook = await (await client.get("/admin/products/import/template.xlsx")).read()
    # the template itself imports cleanly
    job = await imported_catalog(client, "template.xlsx", workbook, "application/octet-stream")
    assert (job["status"], job["failed_rows"], job["created"]) == ("done", 0, 2)
