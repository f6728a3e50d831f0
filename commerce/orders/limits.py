"""What one shopper may hold and do: unpaid orders hold their stock until paid or cancelled,
so without limits one shopper could reserve a SKU's whole stock, again after every deadline."""

from __future__ import annotations

from collections import defaultdict

import redis.asyncio as redis

from commerce.config import Settings
from commerce.db import fetch_rows
from commerce.orders.errors import OrderError
from commerce.orders.states import OrderStatus

# One atomic step: count a new order in this shopper's window (the first one starts it; a
# window left without expiry by any mishap gets one too). A key already counted answers its
# own number again: the app's retries of one order are one order, decided the same way.
# The second value says whether the key was counted before (1) or is new (0).
_COUNT_IN_WINDOW = """
local mine = redis.call('GET', KEYS[2])
if mine then
    return {tonumber(mine), 1}
end
local placed = redis.call('INCR', KEYS[1])
if placed == 1 or redis.call('TTL', KEYS[1]) < 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
redis.call('SET', KEYS[2], placed, 'EX', ARGV[1])
return {placed, 0}
"""


async def count_order_attempt(
    redis_client: redis.Redis, *, user_id: int, idempotency_key: str, settings: Settings
) -> bool:
    """Count a new order by this shopper in the current window (Redis: across processes);
    ORDER_RATE_LIMITED past the limit. True when this key was counted before in the window
    (the same order sent again), False for a key new to the window."""
    window = settings.order_rate_window_seconds
    counter = f"orders:rate:{{{user_id}}}"  # one hash slot per shopper (Redis Cluster)
    # EVALSHA: the script is sent once per Redis server, not with every order.
    count = redis_client.register_script(_COUNT_IN_WINDOW)
    placed, repeated = await count(keys=[counter, f"{counter}:{idempotency_key}"], args=[window])
    if int(placed) > settings.order_rate_limit:
        raise OrderError.ORDER_RATE_LIMITED.error(
            f"下单太频繁，{_per(window)}最多下 {settings.order_rate_limit} 单，请稍后再试"
        )
    return bool(int(repeated))


async def check_unpaid_limits(
    conn, *, user_id: int, wanted: list[tuple[int, int]], settings: Settings
) -> None:
    """Refuse an order that would take this shopper past the unpaid limits.

    Runs in the order's transaction after the shopper's row is locked (users.lock_shopper), so
    the shopper's other orders are committed or not yet begun: the count is the truth.
    """
    rows = await fetch_rows(
        "SELECT o.`checkout_id`, l.`sku_id`, l.`quantity` FROM `shop_order` o"
        " JOIN `order_line` l ON l.`order_id` = o.`id` WHERE o.`user_id` = ? AND o.`status` = ?",
        [user_id, OrderStatus.PENDING_PAYMENT.value],
        connection=conn,
    )
    # A checkout is one shopper action however many merchants' orders it made: the limit
    # counts unpaid checkouts (they are paid or cancelled together).
    most_orders = settings.order_max_unpaid_per_shopper
    if len({row["checkout_id"] for row in rows}) >= most_orders:
        raise OrderError.TOO_MANY_UNPAID_ORDERS.error(
            f"您已有 {most_orders} 笔待支付订单，请先支付或取消后再下单"
        )
    unpaid: dict[int, int] = defaultdict(int)
    for row in rows:
        unpaid[row["sku_id"]] += row["quantity"]
    most_units = settings.order_max_unpaid_quantity_per_sku
    over = [
        {"sku_id": sku_id, "limit": most_units, "unpaid": unpaid[sku_id], "wanted": quantity}
        for sku_id, quantity in wanted
        if unpaid[sku_id] + quantity > most_units
    ]
    if over:
        raise OrderError.UNPAID_QUANTITY_LIMIT.error(
            f"每件商品待支付的数量最多 {most_units} 件，请先支付或取消已有订单，或减少数量",
            fields=over,
        )


def _per(seconds: int) -> str:
    if seconds == 60:
        return "每分钟"
    return f"每 {seconds // 60} 分钟" if seconds % 60 == 0 else f"每 {seconds} 秒"
