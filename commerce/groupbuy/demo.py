"""`shop seed-demo`: a 拼团 group deal on the demo catalog, through the merchants' own service."""

from __future__ import annotations

from datetime import timedelta

from commerce import clock
from commerce.catalog import demo_picks
from commerce.groupbuy.deals import DealInput, create_deal


async def seed_demo_deal() -> int | None:
    """A three-person group deal on a pair of earbuds at 80% of its price, for 30 days; its id
    (None when the demo catalog has no such SKU)."""
    [sku] = await demo_picks.demo_skus(category_prefix="数码 > 耳机 > 蓝牙耳机", count=1) or [None]
    if sku is None:
        return None
    now = clock.now()
    deal = DealInput(
        title=f"3 人拼团：{sku.title}",
        prices={sku.sku_id: sku.price * 8 // 10},
        group_size=3,
        time_limit_minutes=24 * 60,
        per_shopper_limit=2,
        starts_at=now,
        ends_at=now + timedelta(days=30),
    )
    return await create_deal(deal=deal, merchant_id=None)
