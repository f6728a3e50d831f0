"""Bring whole-order refunds asked before after-sales existed (issue 11) into the after-sales
context, for a migration to call with its connection, on SQLite and MySQL/MariaDB.

Every refund a shopper asked for (not automatic, whole order, not yet named by a request)
becomes a refund-only request covering what its order had left, in the state its refund was:
awaiting review → requested (reviewed by itself 48 hours after the upgrade), requested,
processing or failed → refunding, succeeded → refunded, refused → refused. A failed refund
submitted again is the same request (the chain of retries all name it). The order lines count
the units and money of the requests that stand; orders leave "refunding" for where they came
from (paid, shipped) and "refunded" for "closed"; claims released whole count their units
released; and a refund before shipment still on its way gives its stock back now (after-sales
does that when it approves such a refund, not when the money arrives).

Idempotent: a refund named by a request is left alone, so an interrupted run runs again.
Expects the columns of the new shape (aftersale tables, refund.aftersale_id, the line and claim
counters) to exist, and `shop_order.refund_from` not yet dropped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from commerce.migration_tools import upgrade_insert, upgrade_rows, upgrade_run

REVIEW_HOURS = 48
_STATUS = {
    "awaiting_review": "requested",
    "requested": "refunding",
    "processing": "refunding",
    "failed": "refunding",
    "succeeded": "refunded",
    "refused": "refused",
}


async def upgrade_refunds(conn: Any) -> None:
    """All of it, in order."""
    now = datetime.now(UTC)
    refunds = await upgrade_rows(
        conn,
        "SELECT r.`id`, r.`order_id`, r.`amount`, r.`reason`, r.`status`, r.`requested_by`,"
        " r.`reviewed_by`, r.`reviewed_at`, r.`refusal`, r.`out_refund_no`, r.`created_at`,"
        " r.`updated_at`, r.`succeeded_at`, o.`user_id`, o.`merchant_id`, o.`status` AS `order_status`,"
        " o.`refund_from`, o.`shipping_fee`"
        " FROM `refund` r JOIN `shop_order` o ON o.`id` = r.`order_id`"
        " WHERE r.`automatic` = 0 AND r.`whole_order` = 1 AND r.`aftersale_id` IS NULL"
        " AND r.`retried_as_id` IS NULL ORDER BY r.`id`",
    )
    for refund in refunds:
        await _request_of(conn, refund, now)
    await _name_retried(conn)
    await upgrade_run(
        conn,
        "UPDATE `order_claim` SET `released_quantity` = `quantity`"
        " WHERE `released_at` IS NOT NULL AND `released_quantity` < `quantity`",
    )
    await upgrade_run(
        conn,
        "UPDATE `shop_order` SET `status` ="
        " CASE WHEN `refund_from` = 'shipped' THEN 'shipped' ELSE 'paid' END WHERE `status` = 'refunding'",
    )
    await upgrade_run(conn, "UPDATE `shop_order` SET `status` = 'closed' WHERE `status` = 'refunded'")


async def _request_of(conn: Any, refund: dict, now: datetime) -> None:
    """One refund's request, its lines, timeline, counters and (before shipment) stock."""
    status = _STATUS.get(refund["status"], "refunding")
    before_shipment = (refund["refund_from"] or "paid") != "shipped"
    lines = await upgrade_rows(
        conn,
        "SELECT `id`, `sku_id`, `title`, `quantity`, `payable`, `refund_quantity`, `refund_amount`"
        " FROM `order_line` WHERE `order_id` = ? AND `refund_quantity` < `quantity` ORDER BY `id`",
        [refund["order_id"]],
    )
    amount = int(refund["amount"])
    left = sum(int(line["payable"]) - int(line["refund_amount"]) for line in lines)
    # The old whole refund returned the shipping fee too, shipped or not: what is beyond the lines.
    shipping = max(0, min(int(refund["shipping_fee"]), amount - left))
    parts = _split(amount - shipping, [int(line["payable"]) - int(line["refund_amount"]) for line in lines])
    finished = {"refunded": refund["succeeded_at"] or refund["updated_at"], "refused": refund["updated_at"]}
    row = {
        "aftersale_no": f"ASU{refund['id']:010d}",
        "order_id": refund["order_id"],
        "user_id": refund["user_id"],
        "merchant_id": refund["merchant_id"],
        "kind": "refund_only",
        "status": status,
        "reason": (refund["reason"] or "退款")[:80],
        "description": "",
        "photos": [],
        "amount": amount,
        "shipping_amount": shipping,
        "before_shipment": before_shipment,
        "return_carrier": "",
        "return_tracking_no": "",
        "restocked": None,
        "refund_id": refund["id"],
        "review_due_at": now + timedelta(hours=REVIEW_HOURS) if status == "requested" else None,
        "reviewed_by": refund["reviewed_by"] or "",
        "reviewed_at": refund["reviewed_at"],
        "refusal": refund["refusal"] or "",
        "created_at": refund["created_at"],
        "updated_at": refund["updated_at"],
        "finished_at": finished.get(status),
    }
    aftersale_id = await upgrade_insert(conn, "aftersale", row)
    for line, part in zip(lines, parts, strict=True):
        units = int(line["quantity"]) - int(line["refund_quantity"])
        await upgrade_insert(
            conn,
            "aftersale_line",
            {
                "aftersale_id": aftersale_id,
                "order_line_id": line["id"],
                "sku_id": line["sku_id"],
                "title": line["title"],
                "quantity": units,
                "amount": part,
            },
        )
        if status != "refused":  # a refused request gave its units back
            await upgrade_run(
                conn,
                "UPDATE `order_line` SET `refund_quantity` = `refund_quantity` + ?,"
                " `refund_amount` = `refund_amount` + ? WHERE `id` = ?",
                [units, part, line["id"]],
            )
    await _timeline(conn, aftersale_id, refund, status)
    await upgrade_run(
        conn, "UPDATE `refund` SET `aftersale_id` = ? WHERE `id` = ?", [aftersale_id, refund["id"]]
    )
    if status == "refunding" and before_shipment:
        await _release_stock(conn, refund["order_id"], refund["updated_at"])


def _split(amount: int, weights: list[int]) -> list[int]:
    """`amount` over the lines in proportion to what each has left, rounded down, the last
    line taking the rest (each at most its own)."""
    total = sum(weights)
    if not weights:
        return []
    if total <= 0:
        return [0] * (len(weights) - 1) + [amount]
    amount = min(amount, total)
    parts = [amount * weight // total for weight in weights[:-1]]
    return [*parts, amount - sum(parts)]


async def _timeline(conn: Any, aftersale_id: int, refund: dict, status: str) -> None:
    events = [("requested", "", "requested", refund["requested_by"], refund["created_at"])]
    if status != "requested":
        actor = refund["reviewed_by"] or "system:upgrade"
        events.append(("status_changed", "requested", status, actor, refund["updated_at"]))
    for type_, frm, to, actor, at in events:
        await upgrade_insert(
            conn,
            "aftersale_event",
            {
                "aftersale_id": aftersale_id,
                "type": type_,
                "from_status": frm,
                "to_status": to,
                "actor": (actor or "system:upgrade")[:64],
                "params": {"out_refund_no": refund["out_refund_no"], "upgraded": True},
                "created_at": at,
            },
        )


async def _name_retried(conn: Any) -> None:
    """Refunds retried as another name the request their retry names (chains are short)."""
    while True:
        rows = await upgrade_rows(
            conn,
            "SELECT r.`id`, n.`aftersale_id` FROM `refund` r JOIN `refund` n ON n.`id` = r.`retried_as_id`"
            " WHERE r.`aftersale_id` IS NULL AND n.`aftersale_id` IS NOT NULL",
        )
        if not rows:
            return
        for row in rows:
            await upgrade_run(
                conn,
                "UPDATE `refund` SET `aftersale_id` = ? WHERE `id` = ?",
                [row["aftersale_id"], row["id"]],
            )


async def _release_stock(conn: Any, order_id: int, at: Any) -> None:
    """The unreleased stock claims of an order refunded before shipment go back on sale (the
    product's total too, unless its SKU was retired)."""
    claims = await upgrade_rows(
        conn,
        "SELECT `id`, `ref`, `quantity`, `released_quantity` FROM `order_claim`"
        " WHERE `order_id` = ? AND `kind` = 'stock' AND `released_at` IS NULL",
        [order_id],
    )
    for claim in claims:
        units = int(claim["quantity"]) - int(claim["released_quantity"])
        await upgrade_run(
            conn,
            "UPDATE `order_claim` SET `released_quantity` = `quantity`, `released_at` = ? WHERE `id` = ?",
            [at, claim["id"]],
        )
        skus = await upgrade_rows(
            conn, "SELECT `product_id`, `retired_at` FROM `sku` WHERE `id` = ?", [int(claim["ref"])]
        )
        if not skus or units <= 0:
            continue
        await upgrade_run(
            conn, "UPDATE `sku` SET `stock` = `stock` + ? WHERE `id` = ?", [units, int(claim["ref"])]
        )
        if skus[0]["retired_at"] is None:
            await upgrade_run(
                conn,
                "UPDATE `product` SET `total_stock` = `total_stock` + ? WHERE `id` = ?",
                [units, skus[0]["product_id"]],
            )
