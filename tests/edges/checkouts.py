"""A cart of two merchants' goods, placed through the app: one checkout, an order per merchant,
paid by one WeChat Pay transaction."""

from __future__ import annotations

import uuid

from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.merchants.services import ensure_merchant
from tests.factories import sku_row

OTHER_SKU = "B-TEA-1"  # sold by merchant B; P2-W (the small catalog's) by the platform's own shop


async def two_order_checkout(client, shopper: dict) -> tuple[dict, dict]:
    """One unit of P2-W and two of merchant B's tea, placed together: (the platform shop's
    order, B's order) as the API shows them."""
    if not await Sku.exists(sku_code=OTHER_SKU):
        other = await ensure_merchant(code="shop-b", name="乙店")
        tea = sku_row("B-TEA", OTHER_SKU, title="乙店茶叶", category="食品 > 茶叶 > 绿茶", price="19.90")
        assert not (await import_rows([tea], merchant_id=other)).problems
    items = [
        {"sku_id": (await Sku.get(sku_code="P2-W")).id, "quantity": 1},
        {"sku_id": (await Sku.get(sku_code=OTHER_SKU)).id, "quantity": 2},
    ]
    response = await client.post(
        "/api/v1/orders",
        json={"items": items, "address_id": shopper["address_id"]},
        headers={**shopper["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status == 201, await response.text()
    first, second = (await response.json())["checkout"]["orders"]
    return first, second
