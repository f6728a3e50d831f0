"""Spreadsheet uploads are bounded before they are read: an .xlsx that unpacks to more than
20 MB (a zip bomb: kilobytes on the wire), and a catalog of more rows than one import takes,
are refused at once with the reason, by the catalog import and the bulk shipping alike (one
shared guard), and nothing is imported."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook

from commerce.audit.models import AuditEntry
from commerce.catalog.catalog_file import COLUMNS, MAX_ROWS, read_catalog_bytes
from commerce.catalog.models import Product
from commerce.orders.models import OrderEvent
from commerce.spreadsheets import MAX_UNZIPPED_BYTES
from tests.builders import file_form, imported_catalog, staff_signed_in, upload_catalog
from tests.factories import seed_small_catalog

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _row(n: int) -> list[str]:
    return ["数码 > 配件", f"S{n}", f"商品 {n}", "", "", f"S{n}-1", "1.00", "", "1", "", "on_sale", ""]


def _xlsx(header: list[str], rows: list[list[str]], *, declared: bool = False) -> bytes:
    """An .xlsx; `declared`: with the sheet's size in it, as Excel writes (slower to make)."""
    book = Workbook(write_only=not declared)
    sheet = book.active if declared else book.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _bomb(xlsx: bytes) -> bytes:
    """The same workbook with a part of zeros that unpacks past the limit (tens of KB packed)."""
    out = io.BytesIO(xlsx)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", bytes(MAX_UNZIPPED_BYTES + 1))
    data = out.getvalue()
    assert len(data) < 100 * 1024
    return data


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


async def _nothing_imported() -> bool:
    return not await Product.exists() and not await AuditEntry.filter(action="product.import").exists()


async def test_a_catalog_xlsx_that_unpacks_past_the_limit_is_refused_at_once(client):
    await staff_signed_in(client, "boss")
    bomb = _bomb(_xlsx(list(COLUMNS), [_row(1)]))
    response = await upload_catalog(client, "catalog.xlsx", bomb, XLSX)
    assert response.status == 400
    assert "解压后超过 20 MB" in await response.text()
    assert await _nothing_imported()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_a_catalog_of_more_rows_than_one_import_takes_is_refused_at_once(client, kind):
    # given a file of one row too many (an .xlsx as Excel saves it: its size declared)
    await staff_signed_in(client, "boss")
    rows = [_row(n) for n in range(MAX_ROWS + 1)]
    content = _csv(rows) if kind == "csv" else _xlsx(list(COLUMNS), rows, declared=True)
    # when it is uploaded, then it is refused with the reason and nothing is imported
    response = await upload_catalog(client, f"catalog.{kind}", content, "text/csv" if kind == "csv" else XLSX)
    assert response.status == 400
    assert f"最多 {MAX_ROWS} 行" in await response.text()
    assert await _nothing_imported()


async def test_a_sheet_that_does_not_declare_its_size_is_stopped_while_read(client):
    # given an .xlsx of one row too many that does not say how many it holds
    await staff_signed_in(client, "boss")
    content = _xlsx(list(COLUMNS), [_row(n) for n in range(MAX_ROWS + 1)])
    # when it is uploaded, then its job fails with the reason before any product is imported
    job = await imported_catalog(client, "catalog.xlsx", content, XLSX)
    assert job["status"] == "failed" and f"最多 {MAX_ROWS} 行" in job["message"]
    assert not await Product.exists()


def test_a_catalog_of_exactly_the_limit_is_read():
    rows = list(read_catalog_bytes(_csv([_row(n) for n in range(MAX_ROWS)])))
    assert len(rows) == MAX_ROWS


async def test_a_shipping_xlsx_that_unpacks_past_the_limit_is_refused_by_the_same_guard(client, simulator):
    await seed_small_catalog()
    csrf = await staff_signed_in(client, "boss")
    bomb = _bomb(_xlsx(["订单号", "快递公司", "快递单号"], [["1", "顺丰速运", "SF1"]]))
    response = await client.post(
        "/admin/orders/ship-bulk", data=file_form([("csrf_token", csrf)], "ship.xlsx", bomb, XLSX)
    )
    assert response.status == 400
    assert "解压后超过 20 MB" in await response.text()
    assert not await OrderEvent.exists()
