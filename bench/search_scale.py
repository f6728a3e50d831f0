"""Search latency on a large generated catalog (default 100,000 SKUs), in-process.

    .venv/bin/python -m bench.search_scale [--skus 100000]

Generates the catalog into a temporary SQLite database with bulk inserts (variations of the
demo catalog), builds the index as `shop serve` does at start, then runs a fixed mix of
realistic queries and reports latency percentiles, build time and memory.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tortoise import Tortoise

from commerce.catalog.demo_data import LEAVES
from commerce.catalog.models import Category, Product, Sku
from commerce.catalog.search import CatalogSearch, SearchParams
from commerce.catalog.states import ProductStatus, SortOrder
from commerce.db import tortoise_config
from commerce.merchants.models import Merchant

QUERIES = [
    "苹果手机",
    "iphone",
    "华为手机",
    "华为mate60",
    "小米",
    "xiaomi",
    "蓝牙耳机",
    "蓝牙耳几",
    "耳机",
    "airpods",
    "笔记本",
    "macbook",
    "平板",
    "智能手表",
    "空调",
    "格力空调",
    "冰箱",
    "洗衣机",
    "吹风机",
    "戴森",
    "扫地机器人",
    "电饭煲",
    "口红",
    "面霜",
    "面膜",
    "洗发水",
    "羽绒服",
    "连衣裙",
    "跑鞋",
    "运动鞋",
    "纸尿裤",
    "奶粉",
    "乐高",
    "四件套",
    "洗衣液",
    "脐橙",
    "橙子",
    "牛奶",
    "坚果",
    "iphnoe",
]
# What a shopper types on a phone keyboard: pinyin, initials, homophone typos, traditional
# characters (measured apart, so the mix above stays comparable with earlier runs).
TYPED_QUERIES = [
    "erji",
    "lanyaerji",
    "huaweishouji",
    "kongqizhaguo",
    "lyej",
    "dfb",
    "sj",
    "耳鸡",
    "电反锅",
    "蓝牙耳鸡",
    "藍牙耳機",
    "華為手機",
    "小米shouji",
    "xiaomi充电宝",
    "chongdianbao",
    "zhiniaoku",
    "xfs",
    "口洪",
    "冰相",
    "空氣炸鍋",
]
SKUS_PER_PRODUCT = 4
EDITIONS = ["", "2024款", "2025新款", "旗舰版", "青春版", "礼盒装", "限定版", "升级版", "尊享版", "轻享版"]


async def generate(skus: int) -> int:
    merchant = await Merchant.create(code="bench", name="压测商户")
    categories: dict[str, int] = {}
    for leaf in LEAVES:
        parent = None
        for level, name in enumerate([part.strip() for part in leaf.path.split(">")], start=1):
            key = "/".join([leaf.path.split(">")[i].strip() for i in range(level)])
            if key not in categories:
                category = await Category.create(
                    name=name, parent_id=parent, parent_key=parent or 0, level=level, path=""
                )
                parent_path = (await Category.get(id=parent)).path if parent else "/"
                category.path = f"{parent_path}{category.id}/"
                await category.save(update_fields=["path"])
                categories[key] = category.id
            parent = categories[key]
    rng = random.Random(7)
    now = datetime.now(UTC)
    products_wanted = skus // SKUS_PER_PRODUCT
    batch: list[Product] = []
    made = 0
    while made < products_wanted:
        leaf = rng.choice(LEAVES)
        brand, model, subtitle = rng.choice(leaf.items).split("|")
        title = f"{brand} {model} {rng.choice(EDITIONS)} {leaf.suffix}".replace("  ", " ").strip()
        price = rng.randint(*leaf.price) * 100
        leaf_key = "/".join(part.strip() for part in leaf.path.split(">"))
        batch.append(
            Product(
                merchant_id=merchant.id,
                category_id=categories[leaf_key],
                spu_code=f"B{made:07d}",
                title=title,
                subtitle=subtitle,
                images=[f"https://img.example.com/b/{made}.jpg"],
                status=ProductStatus.ON_SALE,
                spec_axes=[],
                min_price=price,
                max_price=price * 2,
                total_stock=40,
                sales=rng.randint(0, 5000),
                created_at=now,
                updated_at=now,
            )
        )
        made += 1
        if len(batch) == 2000 or made == products_wanted:
            await Product.bulk_create(batch)
            batch = []
    product_ids = await Product.all().values_list("id", flat=True)
    sku_rows: list[Sku] = []
    for pid in product_ids:
        for n in range(SKUS_PER_PRODUCT):
            sku_rows.append(
                Sku(
                    product_id=pid,
                    sku_code=f"S{pid}-{n}",
                    specs={"规格": f"款式{n + 1}"},
                    price=10000 + n,
                    market_price=0,
                    stock=10,
                    created_at=now,
                    updated_at=now,
                )
            )
        if len(sku_rows) >= 8000:
            await Sku.bulk_create(sku_rows)
            sku_rows = []
    if sku_rows:
        await Sku.bulk_create(sku_rows)
    return len(product_ids)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


async def measure(skus: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        await Tortoise.init(config=tortoise_config(f"sqlite://{Path(folder) / 'bench.sqlite3'}"))
        await Tortoise.generate_schemas()
        started = time.perf_counter()
        products = await generate(skus)
        elapsed = time.perf_counter() - started
        print(f"generated {products} products / {products * SKUS_PER_PRODUCT} SKUs in {elapsed:.1f} s")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        index = CatalogSearch(refresh_seconds=3600)
        started = time.perf_counter()
        await index.rebuild()
        build = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"index built in {build:.1f} s; peak RSS grew by {(rss_after - rss_before) / 1024:.0f} MiB")
        latencies: list[float] = []
        sorts = [SortOrder.RELEVANCE, SortOrder.PRICE_ASC, SortOrder.SALES]
        for round_no in range(rounds):
            for query in QUERIES:
                params = SearchParams(text=query, sort=sorts[round_no % 3], in_stock=round_no % 2 == 0)
                index.clear_result_cache()  # the uncached cost: a query nobody asked since the last change
                t0 = time.perf_counter()
                index.search_now(params)
                latencies.append((time.perf_counter() - t0) * 1000)
        typed: list[float] = []
        for round_no in range(rounds):
            for query in TYPED_QUERIES:
                params = SearchParams(text=query, sort=sorts[round_no % 3], in_stock=round_no % 2 == 0)
                index.clear_result_cache()
                t0 = time.perf_counter()
                index.search_now(params)
                typed.append((time.perf_counter() - t0) * 1000)
        listing: list[float] = []
        for page in range(200):
            index.clear_result_cache()
            t0 = time.perf_counter()
            index.search_now(SearchParams(sort=SortOrder.PRICE_ASC, in_stock=True, offset=page * 20))
            listing.append((time.perf_counter() - t0) * 1000)
        print(
            f"search (uncached) over {len(latencies)} queries: p50 {percentile(latencies, 50):.2f} ms, "
            f"p95 {percentile(latencies, 95):.2f} ms, p99 {percentile(latencies, 99):.2f} ms, "
            f"max {max(latencies):.2f} ms, mean {statistics.mean(latencies):.2f} ms"
        )
        print(
            f"typed queries (pinyin, initials, homophones, traditional; uncached) over {len(typed)}: "
            f"p50 {percentile(typed, 50):.2f} ms, p95 {percentile(typed, 95):.2f} ms, "
            f"p99 {percentile(typed, 99):.2f} ms"
        )
        print(f"filtered listing (uncached): p95 {percentile(listing, 95):.2f} ms")
        await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(measure(args.skus, args.rounds))


if __name__ == "__main__":
    main()
