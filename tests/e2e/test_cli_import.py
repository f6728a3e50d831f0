"""`shop import-products FILE` as a merchant runs it."""

import csv
import os
import subprocess
import sys
from pathlib import Path

SHOP = str(Path(sys.executable).parent / "shop")
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


def _run(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([SHOP, *args], env=env, capture_output=True, text=True, timeout=120)


def test_import_reports_good_and_bad_rows_and_is_repeatable(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["SHOP_DATA_DIR"] = str(tmp_path / "var")
    assert _run(env, "migrate").returncode == 0
    file = tmp_path / "catalog.csv"
    with file.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerow(
            [
                "数码 > 耳机 > 蓝牙耳机",
                "E1",
                "漫步者 蓝牙耳机",
                "",
                "颜色:白色",
                "E1-W",
                "199.00",
                "",
                "20",
                "",
                "on_sale",
            ]
        )
        writer.writerow(
            [
                "数码 > 耳机 > 蓝牙耳机",
                "E1",
                "漫步者 蓝牙耳机",
                "",
                "颜色:黑色",
                "E1-B",
                "199.00",
                "",
                "20",
                "",
                "on_sale",
            ]
        )
        writer.writerow(
            ["数码 > 耳机 > 蓝牙耳机", "E2", "坏价格耳机", "", "", "E2-1", "一百", "", "20", "", "on_sale"]
        )

    first = _run(env, "import-products", str(file))
    assert first.returncode == 0, first.stderr
    assert "成功 2 行" in first.stdout and "新建 1 个商品" in first.stdout
    assert "第 4 行" in first.stderr and "价格" in first.stderr

    again = _run(env, "import-products", str(file))
    assert "更新 1 个商品" in again.stdout

    missing = _run(env, "import-products", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "文件不存在" in missing.stderr
    broken = tmp_path / "broken.csv"
    broken.write_text("title,price\nx,1\n", encoding="utf-8")
    refused = _run(env, "import-products", str(broken))
    assert refused.returncode == 2 and "缺少必需的列" in refused.stderr
