"""Demo SKUs for the other contexts' demo seeds (a group deal, a community sale): picked from
the demo catalog's rows, which are generated the same way every time."""

from __future__ import annotations

from dataclasses import dataclass

from commerce.catalog.demo_data import demo_rows
from commerce.catalog.queries import sku_ids_by_code


@dataclass(frozen=True)
class DemoSku:
    sku_id: int
    title: str
    price: int  # fen


async def demo_skus(*, category_prefix: str, count: int, one_per_product: bool = True) -> list[DemoSku]:
    """Up to `count` on-sale, in-stock SKUs of the platform's own demo merchant under the
    category, in catalog order."""
    picked: list[tuple[str, str, int]] = []
    seen: set[str] = set()
    for row in demo_rows():
        if len(picked) == count:
            break
        if (
            not row["category"].startswith(category_prefix)
            or row["status"] != "on_sale"
            or row["merchant"]
            or row["stock"] == "0"
            or (one_per_product and row["spu_code"] in seen)
        ):
            continue
        seen.add(row["spu_code"])
        picked.append((row["sku_code"], row["title"], round(float(row["price"]) * 100)))
    ids = await sku_ids_by_code([code for code, _, _ in picked])
    return [DemoSku(ids[code], title, price) for code, title, price in picked if code in ids]
