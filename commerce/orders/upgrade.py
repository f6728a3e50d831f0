"""Bring orders placed before "one order per merchant under one payment" (issue 11) into shape.

Plain functions for a migration to call with its connection, on SQLite and MySQL/MariaDB. Each
is idempotent: what it finds done it leaves alone, so a migration interrupted half-way runs
again. They expect the columns of the new shape to exist already (`checkout`, and nullable or
zero-defaulted `shop_order.checkout_id`, `shop_order.merchant_id`, `order_line.merchant_id`,
`payment.checkout_id`); NULL and 0 both mean "not set yet". Run them in this order, as
`upgrade_orders` does:

1. stamp_merchants: every order and line gets the merchant who owns its product now;
2. give_checkouts: every order its own checkout, and every payment its order's checkout;
3. split_orders: an order holding several merchants' lines becomes one order per merchant
   under the same checkout (and so the same payment);
4. record_claims_and_adjustments: what each order took (its lines' stock, released already if
   it was cancelled or refunded before shipment) and the shipping it charged, as the new
   checkout records them; and what has been refunded of each order.
"""

from __future__ import annotations

from typing import Any

from commerce.migration_tools import upgrade_insert, upgrade_rows, upgrade_run


async def upgrade_orders(connection: Any) -> None:
    """All three steps, in order."""
    await stamp_merchants(connection)
    await give_checkouts(connection)
    await split_orders(connection)
    await record_claims_and_adjustments(connection)


async def stamp_merchants(connection: Any) -> None:
    """Each line gets its product's merchant (as it stands now: the best there is to know), then
    each order its first line's (split_orders moves the other merchants' lines out)."""
    await upgrade_run(
        connection,
        "UPDATE `order_line` SET `merchant_id` = COALESCE("
        "(SELECT p.`merchant_id` FROM `product` p WHERE p.`id` = `order_line`.`product_id`), 0)"
        " WHERE `merchant_id` IS NULL OR `merchant_id` = 0",
    )
    await upgrade_run(
        connection,
        "UPDATE `shop_order` SET `merchant_id` = COALESCE("
        "(SELECT l.`merchant_id` FROM `order_line` l WHERE l.`order_id` = `shop_order`.`id`"
        " ORDER BY l.`id` LIMIT 1), 0)"
        " WHERE `merchant_id` IS NULL OR `merchant_id` = 0",
    )


async def give_checkouts(connection: Any) -> None:
    """An order without a checkout gets one of its own, numbered as the order (the number its
    payments' out_trade_no started from), with its payable, deadline and time; each payment
    then points at its order's checkout."""
    await upgrade_run(
        connection,
        "INSERT INTO `checkout` (`checkout_no`, `user_id`, `idempotency_key`, `payable`, `pay_deadline`,"
        " `created_at`)"
        " SELECT o.`order_no`, o.`user_id`, o.`idempotency_key`, o.`payable`, o.`pay_deadline`,"
        " o.`created_at`"
        " FROM `shop_order` o WHERE (o.`checkout_id` IS NULL OR o.`checkout_id` = 0)"
        " AND NOT EXISTS (SELECT 1 FROM `checkout` c WHERE c.`checkout_no` = o.`order_no`)"
        " ORDER BY o.`id`",
    )
    await upgrade_run(
        connection,
        "UPDATE `shop_order` SET `checkout_id` ="
        " (SELECT c.`id` FROM `checkout` c WHERE c.`checkout_no` = `shop_order`.`order_no`)"
        " WHERE `checkout_id` IS NULL OR `checkout_id` = 0",
    )
    await upgrade_run(
        connection,
        "UPDATE `payment` SET `checkout_id` ="
        " (SELECT o.`checkout_id` FROM `shop_order` o WHERE o.`id` = `payment`.`order_id`)"
        " WHERE `checkout_id` IS NULL OR `checkout_id` = 0",
    )


async def split_orders(connection: Any) -> list[int]:
    """Split every order holding several merchants' lines; the ids of the orders split."""
    rows = await upgrade_rows(
        connection,
        "SELECT `order_id` FROM `order_line` GROUP BY `order_id`"
        " HAVING COUNT(DISTINCT `merchant_id`) > 1 ORDER BY `order_id`",
    )
    split = [row["order_id"] for row in rows]
    for order_id in split:
        await _split(connection, order_id)
    return split


async def record_claims_and_adjustments(connection: Any) -> None:
    """Orders placed before claims existed took their lines' stock: one stock claim per line,
    released already where the order gave the stock back (cancelled, or refunded before it
    shipped), so a later cancel or refund releases exactly what is still held. Their shipping
    fee becomes their one adjustment. `refunded` counts the refunds asked of each order that
    still stand (not refused, not automatic returns, not replaced by a retry), at most its
    payable."""
    await upgrade_run(
        connection,
        "INSERT INTO `order_claim` (`order_id`, `kind`, `ref`, `quantity`, `data`, `taken_at`,"
        " `released_at`)"
        " SELECT l.`order_id`, 'stock', CAST(l.`sku_id` AS CHAR), l.`quantity`, '{}', o.`created_at`,"
        " CASE WHEN o.`status` = 'cancelled'"
        " OR (o.`status` = 'refunded' AND o.`refund_from` <> 'shipped') THEN o.`updated_at` END"
        " FROM `order_line` l JOIN `shop_order` o ON o.`id` = l.`order_id`"
        " WHERE NOT EXISTS (SELECT 1 FROM `order_claim` c WHERE c.`order_id` = l.`order_id`)",
    )
    await upgrade_run(
        connection,
        "INSERT INTO `order_adjustment` (`order_id`, `kind`, `source_id`, `label`, `amount`, `split`)"
        " SELECT o.`id`, 'shipping', '', '运费', o.`shipping_fee`, '{}' FROM `shop_order` o"
        " WHERE o.`shipping_fee` > 0"
        " AND NOT EXISTS (SELECT 1 FROM `order_adjustment` a WHERE a.`order_id` = o.`id`)",
    )
    await upgrade_run(
        connection,
        "UPDATE `shop_order` SET `refunded` = (SELECT COALESCE(SUM(r.`amount`), 0) FROM `refund` r"
        " WHERE r.`order_id` = `shop_order`.`id` AND r.`automatic` = 0 AND r.`status` <> 'refused'"
        " AND r.`retried_as_id` IS NULL)",
    )
    await upgrade_run(
        connection, "UPDATE `shop_order` SET `refunded` = `payable` WHERE `refunded` > `payable`"
    )


def split_number(order_no: str, merchant_id: int) -> str:
    """The number of the part of order `order_no` that is merchant `merchant_id`'s: the
    original number and the merchant, within 32 characters (one per merchant, so a second
    run finds the part a first one made)."""
    suffix = f"-{merchant_id}"
    return order_no[: 32 - len(suffix)] + suffix


async def _split(connection: Any, order_id: int) -> None:
    """The order keeps its own merchant's lines (its first line's), its shipping fee, payments,
    refunds and history; each other merchant's lines move to a new order of that merchant,
    a copy of the order (status, shopper, address, times, checkout) with the money of its
    lines, no shipping fee and a copy of the history."""
    (order,) = await upgrade_rows(connection, "SELECT * FROM `shop_order` WHERE `id` = ?", [order_id])
    lines = await upgrade_rows(
        connection,
        "SELECT `id`, `merchant_id` FROM `order_line` WHERE `order_id` = ? ORDER BY `id`",
        [order_id],
    )
    merchants = list(dict.fromkeys(line["merchant_id"] for line in lines))
    keep = order["merchant_id"] if order["merchant_id"] in merchants else merchants[0]
    events = await upgrade_rows(
        connection, "SELECT * FROM `order_event` WHERE `order_id` = ? ORDER BY `id`", [order_id]
    )
    for merchant_id in merchants:
        if merchant_id == keep:
            continue
        part_id = await _part_of(connection, order, merchant_id, events)
        await upgrade_run(
            connection,
            "UPDATE `order_line` SET `order_id` = ? WHERE `order_id` = ? AND `merchant_id` = ?",
            [part_id, order_id, merchant_id],
        )
        await _set_money(connection, part_id, shipping_fee=0)
    await upgrade_run(
        connection, "UPDATE `shop_order` SET `merchant_id` = ? WHERE `id` = ?", [keep, order_id]
    )
    await _set_money(connection, order_id, shipping_fee=order["shipping_fee"])


async def _part_of(connection: Any, order: dict, merchant_id: int, events: list[dict]) -> int:
    """The id of the merchant's part of the order: found if an earlier run made it, else made
    now with a copy of the order's history."""
    order_no = split_number(order["order_no"], merchant_id)
    found = await upgrade_rows(connection, "SELECT `id` FROM `shop_order` WHERE `order_no` = ?", [order_no])
    if found:
        return found[0]["id"]
    suffix = f"-{merchant_id}"
    row = {
        **{name: value for name, value in order.items() if name != "id"},
        "order_no": order_no,
        "merchant_id": merchant_id,
        # unique per shopper: the part answers no repeated submission of its own
        "idempotency_key": order["idempotency_key"][: 64 - len(suffix)] + suffix,
        "shipping_fee": 0,  # stays with the original order (its money is set from the lines after)
    }
    part_id = await upgrade_insert(connection, "shop_order", row)
    for event in events:
        await upgrade_insert(
            connection, "order_event", {**{k: v for k, v in event.items() if k != "id"}, "order_id": part_id}
        )
    return part_id


async def _set_money(connection: Any, order_id: int, *, shipping_fee: int) -> None:
    """An order's totals from its lines (discounts are <= 0 and already split over lines)."""
    (sums,) = await upgrade_rows(
        connection,
        "SELECT COALESCE(SUM(`line_total`), 0) AS items, COALESCE(SUM(`discount`), 0) AS discount"
        " FROM `order_line` WHERE `order_id` = ?",
        [order_id],
    )
    items, discount = int(sums["items"]), int(sums["discount"])
    await upgrade_run(
        connection,
        "UPDATE `shop_order` SET `items_total` = ?, `discount_total` = ?, `shipping_fee` = ?, `payable` = ?"
        " WHERE `id` = ?",
        [items, discount, shipping_fee, items + discount + shipping_fee, order_id],
    )
