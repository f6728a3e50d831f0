"""拼团 through the app: a merchant's group deal on a tea, shoppers opening and joining groups
by placing an order with the group choice and paying it in the simulated WeChat Pay."""

from __future__ import annotations

import uuid
from datetime import timedelta

from commerce import clock
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.groupbuy import deals
from tests.builders import shopper_with_address
from tests.edges.paying import pay_order
from tests.factories import sku_row

TEA = sku_row("GB1", "GB1-1", title="拼团龙井", category="食品 > 茶叶 > 绿茶", price="30.00", stock=100)
GROUP_PRICE = 1990  # fen, against 3000


async def tea_deal(
    size: int = 3, *, minutes: int = 24 * 60, least: int | None = None, stock: int = 100
) -> dict:
    """A deal on the tea at ¥19.90 for groups of `size`: {"deal_id", "sku_id"}."""
    if not await Sku.exists(sku_code="GB1-1"):
        assert not (await import_rows([{**TEA, "stock": str(stock)}])).problems
    sku_id = (await Sku.get(sku_code="GB1-1")).id
    deal_id = await deals.create_deal(
        deal=deals.DealInput(
            title="龙井三人团",
            prices={sku_id: GROUP_PRICE},
            group_size=size,
            time_limit_minutes=minutes,
            per_shopper_limit=2,
            starts_at=clock.now() - timedelta(minutes=1),
            ends_at=clock.now() + timedelta(days=7),
            min_paid_at_deadline=least,
        ),
        merchant_id=None,
    )
    return {"deal_id": deal_id, "sku_id": sku_id}


async def group_order(client, shopper: dict, deal: dict, group_id: int | None = None, quantity: int = 1):
    """The shopper's order for the deal's tea at the group price (joining `group_id`, or
    opening a group): the response."""
    return await client.post(
        "/api/v1/orders",
        json={
            "items": [{"sku_id": deal["sku_id"], "quantity": quantity}],
            "address_id": shopper["address_id"],
            "group": {"deal_id": deal["deal_id"], "group_id": group_id},
        },
        headers={**shopper["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )


async def joined(client, simulator, user: str, deal: dict, group_id: int | None = None, *, paid: bool = True):
    """A new shopper's group order placed (and paid): {"shopper", "order"}."""
    shopper = await shopper_with_address(client, simulator, user)
    placed = await group_order(client, shopper, deal, group_id)
    assert placed.status == 201, await placed.text()
    order = await placed.json()
    if paid:
        await pay_order(client, simulator, shopper["headers"], order["id"])
    return {"shopper": shopper, "order": order}
