"""`shop import-products FILE` as a merchant runs it."""

import csv

from tests.e2e.serving import shop, shop_env
from tests.factories import sku_row

EARPHONES = "数码 > 耳机 > 蓝牙耳机"


def test_import_reports_good_and_bad_rows_and_is_repeatable(tmp_path, shop_services):
    # given a migrated shop and a file with two good rows and a bad one (row 4)
    env = shop_env(tmp_path / "var", shop_services)
    assert shop(env, "migrate").returncode == 0
    rows = [
        sku_row("E1", "E1-W", title="漫步者 蓝牙耳机", category=EARPHONES, price="199.00", specs="颜色:白色"),
        sku_row("E1", "E1-B", title="漫步者 蓝牙耳机", category=EARPHONES, price="199.00", specs="颜色:黑色"),
        sku_row("E2", "E2-1", title="坏价格耳机", category=EARPHONES, price="一百"),
    ]
    file = tmp_path / "catalog.csv"
    with file.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    # when imported, then the good rows load and the bad one is named
    first = shop(env, "import-products", str(file))
    assert first.returncode == 0, first.stderr
    assert "成功 2 行" in first.stdout and "新建 1 个商品" in first.stdout
    assert "第 4 行" in first.stderr and "价格" in first.stderr
    # and importing again updates
    assert "更新 1 个商品" in shop(env, "import-products", str(file)).stdout


def test_files_that_cannot_be_imported_are_refused_clearly(tmp_path, shop_services):
    env = shop_env(tmp_path / "var", shop_services)
    assert shop(env, "migrate").returncode == 0
    missing = shop(env, "import-products", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "文件不存在" in missing.stderr
    broken = tmp_path / "broken.csv"
    broken.write_text("title,price\nx,1\n", encoding="utf-8")
    refused = shop(env, "import-products", str(broken))
    assert refused.returncode == 2 and "缺少必需的列" in refused.stderr
