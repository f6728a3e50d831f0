"""A cell a spreadsheet would run as a formula goes out guarded with a ' and comes back as it
was: every start OWASP lists for CSV injection (= + - @, a tab, a carriage return)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from commerce.catalog.catalog_file import COLUMNS, guard_cell, unguard_cell
from commerce.catalog.models import Product
from tests.builders import imported_catalog, staff_signed_in
from tests.factories import seed_small_catalog

STARTS = ["=", "+", "-", "@", "\t", "\r"]


@pytest.mark.parametrize("start", STARTS, ids=repr)
def test_every_formula_start_is_guarded_and_unguarded_again(start):
    cell = f'{start}HYPERLINK("http://evil")'
    assert guard_cell(cell) == "'" + cell
    assert guard_cell("'" + cell) == "''" + cell  # a ' typed before it is kept too
    for text in (cell, "'" + cell, "安全的标题"):
        assert unguard_cell(guard_cell(text)) == text


async def test_titles_starting_with_a_tab_or_a_carriage_return_are_exported_guarded(client):
    # given products whose titles start with a tab and a carriage return
    await seed_small_catalog()
    titles = {"P1": '\t=HYPERLINK("http://evil")', "P2": "\r=1+1"}
    for spu_code, title in titles.items():
        await Product.filter(spu_code=spu_code).update(title=title)
    await staff_signed_in(client, "boss")
    # when the catalog is exported as CSV and as Excel
    csv_text = (await (await client.get("/admin/products/export?format=csv")).read()).decode("utf-8-sig")
    csv_rows = list(csv.DictReader(io.StringIO(csv_text)))
    xlsx = await (await client.get("/admin/products/export?format=xlsx")).read()
    sheet = load_workbook(io.BytesIO(xlsx), read_only=True).worksheets[0]
    header, *cells = list(sheet.iter_rows(values_only=True))
    xlsx_rows = [dict(zip(header, row, strict=False)) for row in cells]
    # then in both every such title carries the guard (XML reads a carriage return as a newline)
    for rows in (csv_rows, xlsx_rows):
        shown = {
            row["spu_code"]: row["title"].replace("\r", "\n") for row in rows if row["spu_code"] in titles
        }
        assert shown == {spu_code: "'" + title.replace("\r", "\n") for spu_code, title in titles.items()}
    assert list(header) == list(COLUMNS)
    # and importing the CSV again takes the guard off (and, as for every title, the blanks)
    job = await imported_catalog(client, "again.csv", csv_text.encode("utf-8-sig"))
    assert (job["status"], job["failed_rows"]) == ("done", 0)
    for spu_code, title in titles.items():
        assert (await Product.get(spu_code=spu_code)).title == title.strip()
