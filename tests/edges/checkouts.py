"""A checkout holding two merchants' orders, paid by one WeChat Pay transaction.

Until place_order splits a cart by merchant, the builder places two orders through the API and
then moves the second into the first's checkout as another merchant's order: the rows look as a
two-merchant checkout's will (one checkout, its payable the sum, each order its own merchant).
"""

from __future__ import annotations

from commerce.orders.models import Checkout, Order, OrderLine
from tests.edges.shoppers import order_sku

OTHER_MERCHANT = 9_001  # stamped on the second order: scoping reads the stamp, not the product


async def two_order_checkout(client, shopper: dict) -> tuple[dict, dict]:
    """Two unpaid orders (one unit of P2-W, then two) under one checkout; the API's orders."""
    first = await order_sku(client, shopper, "P2-W", quantity=1)
    second = await order_sku(client, shopper, "P2-W", quantity=2)
    a, b = await Order.get(id=first["id"]), await Order.get(id=second["id"])
    await Order.filter(id=b.id).update(checkout_id=a.checkout_id, merchant_id=OTHER_MERCHANT)
    await OrderLine.filter(order_id=b.id).update(merchant_id=OTHER_MERCHANT)
    await Checkout.filter(id=a.checkout_id).update(payable=a.payable + b.payable)
    await Checkout.filter(id=b.checkout_id).delete()
    return first, second
