"""The claims an order takes when committed and gives back when released, by kind.

A pricing step declares claims (commerce.pricing.pipeline.Claim); this registry says how each
kind is taken and released. Taking runs inside the order's transaction, all kinds or none;
every claim taken is an `order_claim` row, and releasing one is a conditional update of its
`released_at`, so two racing releases (a cancel and the expiry job) give it back once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from commerce import clock
from commerce.catalog import services as catalog
from commerce.db import execute, fetch_rows, insert_many, model_row
from commerce.orders.models import OrderClaim
from commerce.pricing.pipeline import Claim

Take = Callable[[object, Sequence[Claim]], Awaitable[bool]]  # (connection, claims) -> all taken
Release = Callable[[object, Sequence[Claim]], Awaitable[None]]


@dataclass(frozen=True)
class ClaimKind:
    take: Take
    release: Release


async def _take_stock(conn, claims: Sequence[Claim]) -> bool:
    items = [(int(claim.ref), claim.quantity) for claim in claims]
    products = {int(claim.ref): claim.data["product_id"] for claim in claims if "product_id" in claim.data}
    return await catalog.reserve_stock(items=items, products=products or None, connection=conn)


async def _release_stock(conn, claims: Sequence[Claim]) -> None:
    await catalog.release_stock(items=[(int(claim.ref), claim.quantity) for claim in claims], connection=conn)


REGISTRY: dict[str, ClaimKind] = {
    "stock": ClaimKind(take=_take_stock, release=_release_stock),
}


async def take_all(conn, claims: Sequence[Claim]) -> bool:
    """Take every claim of a checkout inside the caller's transaction; False when one kind
    cannot be had (the caller rolls back, so nothing stays taken). A kind takes all of its
    claims at once (stock in SKU order across the orders: no two checkouts wait in a cycle)."""
    by_kind: dict[str, list[Claim]] = defaultdict(list)
    for claim in claims:
        by_kind[claim.kind].append(claim)
    for kind in sorted(by_kind):
        if not await REGISTRY[kind].take(conn, by_kind[kind]):
            return False
    return True


async def record(conn, taken: Sequence[tuple[int, Sequence[Claim]]]) -> None:
    """Write down what each order took, as (order id, its claims), in one statement (in the
    checkout's transaction)."""
    at = clock.now()
    rows = [
        model_row(
            OrderClaim,
            {
                "order_id": order_id,
                "kind": claim.kind,
                "ref": claim.ref,
                "quantity": claim.quantity,
                "data": claim.data,
                "taken_at": at,
            },
        )
        for order_id, claims in taken
        for claim in claims
    ]
    await insert_many(OrderClaim._meta.db_table, rows, connection=conn)


async def release_all(conn, *, order_id: int) -> int:
    """Give back every claim of the order not given back yet, inside the caller's
    transaction; how many were. Each claim is marked released by a conditional update first:
    the one that moves the row releases it, a racing release finds nothing left to do."""
    rows = await fetch_rows(
        "SELECT `id`, `kind`, `ref`, `quantity`, `data` FROM `order_claim`"
        " WHERE `order_id` = ? AND `released_at` IS NULL ORDER BY `id`",
        [order_id],
        connection=conn,
    )
    at = clock.now()
    by_kind: dict[str, list[Claim]] = defaultdict(list)
    for row in rows:
        moved = await execute(
            "UPDATE `order_claim` SET `released_at` = ? WHERE `id` = ? AND `released_at` IS NULL",
            [at, row["id"]],
            connection=conn,
        )
        if moved:
            by_kind[row["kind"]].append(Claim(row["kind"], row["ref"], row["quantity"]))
    for kind in sorted(by_kind):
        await REGISTRY[kind].release(conn, by_kind[kind])
    return sum(len(claims) for claims in by_kind.values())
