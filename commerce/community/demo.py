"""`shop seed-demo`: today's community sale (社区团购) of fresh food on the demo catalog, by the
platform, through the sales' own service."""

from __future__ import annotations

from datetime import timedelta

from commerce import clock
from commerce.catalog import demo_picks
from commerce.community.sales import create_sale, shanghai_today

ACTOR = "system:seed-demo"


async def seed_demo_sale(*, cutoff_hour: int) -> int | None:
    """Fruit, milk and rice at 85% of their price until today's cut-off (tomorrow's when
    today's has passed); the sale's id, or None without such SKUs."""
    skus = await demo_picks.demo_skus(category_prefix="食品生鲜", count=4)
    if not skus:
        return None
    day = shanghai_today()
    if clock.to_shanghai(clock.now()).hour >= cutoff_hour:
        day += timedelta(days=1)
    sale = await create_sale(
        title="今日社区团购：新鲜水果与粮油",
        sale_date=day,
        items=[(sku.sku_id, max(1, sku.price * 85 // 100)) for sku in skus],
        merchant_id=None,
        cutoff_hour=cutoff_hour,
        actor=ACTOR,
    )
    return sale.id
