"""The claims an order takes when committed and gives back when released, by kind.

A pricing step declares claims (commerce.pricing.pipeline.Claim); this registry says how each
kind is taken and released. Taking runs inside the order's transaction, all kinds or none;
every claim taken is an `order_claim` row, and releasing one is a conditional update of its
`released_at`, so two racing releases (a cancel and the expiry job) give it back once.

An after-sales refund gives back part of an order: each kind says, in one rule next to how it
is taken, what of its claim the refunded units return (the table REGISTRY below is the one
place that decides it). A partial release raises `released_quantity` by a conditional update
that keeps it <= quantity; `released_at` is set when it reaches quantity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from commerce import clock
from commerce.catalog import services as catalog
from commerce.db import execute, fetch_rows, insert_many, model_row
from commerce.orders.models import OrderClaim
from commerce.pricing.pipeline import Claim

Take = Callable[[object, Sequence[Claim]], Awaitable[bool]]  # (connection, claims) -> all taken
Release = Callable[[object, Sequence[Claim]], Awaitable[None]]


@dataclass(frozen=True)
class RefundedGoods:
    """What an after-sales refund covers, as the claims' rules read it."""

    units: Mapping[int, int]  # sku id -> units of it refunded by the request
    # The goods never left the merchant (refunded before shipment), or came back and the
    # merchant put them back on sale.
    goods_back: bool


@dataclass(frozen=True)
class ClaimRow:
    id: int
    kind: str
    ref: str
    quantity: int
    released_quantity: int


# (the claim, the refund) -> how many of the claim's units the refund gives back (0: kept).
OnRefund = Callable[[ClaimRow, RefundedGoods], int]


@dataclass(frozen=True)
class ClaimKind:
    take: Take
    release: Release
    on_refund: OnRefund


async def _take_stock(conn, claims: Sequence[Claim]) -> bool:
    items = [(int(claim.ref), claim.quantity) for claim in claims]
    products = {int(claim.ref): claim.data["product_id"] for claim in claims if "product_id" in claim.data}
    return await catalog.reserve_stock(items=items, products=products or None, connection=conn)


async def _release_stock(conn, claims: Sequence[Claim]) -> None:
    await catalog.release_stock(items=[(int(claim.ref), claim.quantity) for claim in claims], connection=conn)


def _stock_on_refund(claim: ClaimRow, refunded: RefundedGoods) -> int:
    """Units go back on sale when they are in the warehouse: never shipped, or returned and
    restocked. Shipped goods the shopper keeps (or that came back unsellable) stay sold."""
    return refunded.units.get(int(claim.ref), 0) if refunded.goods_back else 0


# Each kind: how it is taken, released whole (a cancelled order), and what an after-sales
# refund of some units gives back. A later kind adds its row, e.g. a coupon kept unless the
# whole order is refunded, points returned in proportion to the money refunded.
REGISTRY: dict[str, ClaimKind] = {
    "stock": ClaimKind(take=_take_stock, release=_release_stock, on_refund=_stock_on_refund),
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
    """Give back what is left of every claim of the order, inside the caller's transaction;
    how many claims were. Each claim is marked released by a conditional update first (from
    the released quantity read): the one that moves the row releases the rest, a racing
    release finds nothing left to do."""
    by_kind: dict[str, list[Claim]] = defaultdict(list)
    for claim in await _open_claims(conn, order_id):
        left = await _release_units(conn, claim, claim.quantity - claim.released_quantity)
        if left:
            by_kind[claim.kind].append(Claim(claim.kind, claim.ref, left))
    await _give_back(conn, by_kind)
    return sum(len(claims) for claims in by_kind.values())


async def release_for_refund(conn, *, order_id: int, refunded: RefundedGoods) -> int:
    """Give back what an after-sales refund returns of the order's claims, by each kind's
    rule, inside the refund's transaction; how many units were."""
    by_kind: dict[str, list[Claim]] = defaultdict(list)
    wanted = dict(refunded.units)
    for claim in await _open_claims(conn, order_id):
        units = min(
            REGISTRY[claim.kind].on_refund(claim, RefundedGoods(wanted, refunded.goods_back)),
            claim.quantity - claim.released_quantity,
        )
        released = await _release_units(conn, claim, units) if units > 0 else 0
        if released:
            by_kind[claim.kind].append(Claim(claim.kind, claim.ref, released))
            if claim.kind == "stock":  # several claims of one SKU share the refunded units
                wanted[int(claim.ref)] = wanted.get(int(claim.ref), 0) - released
    await _give_back(conn, by_kind)
    return sum(claim.quantity for claims in by_kind.values() for claim in claims)


async def _open_claims(conn, order_id: int) -> list[ClaimRow]:
    rows = await fetch_rows(
        "SELECT `id`, `kind`, `ref`, `quantity`, `released_quantity` FROM `order_claim`"
        " WHERE `order_id` = ? AND `released_at` IS NULL ORDER BY `id`",
        [order_id],
        connection=conn,
    )
    return [ClaimRow(r["id"], r["kind"], r["ref"], r["quantity"], r["released_quantity"]) for r in rows]


async def _release_units(conn, claim: ClaimRow, units: int) -> int:
    """Mark `units` more of the claim released, by a conditional update from the released
    quantity read; re-read when another release moved it first. How many units were (0 when
    none is left)."""
    released = claim.released_quantity
    for _ in range(5):
        units = min(units, claim.quantity - released)
        if units <= 0:
            return 0
        # released_at first: MySQL evaluates SET left to right with the new values, SQLite
        # with the old ones; so both read the released quantity before this update.
        moved = await execute(
            "UPDATE `order_claim` SET"
            " `released_at` = CASE WHEN `released_quantity` + ? >= `quantity` THEN ? ELSE `released_at` END,"
            " `released_quantity` = `released_quantity` + ?"
            " WHERE `id` = ? AND `released_at` IS NULL AND `released_quantity` = ?",
            [units, clock.now(), units, claim.id, released],
            connection=conn,
        )
        if moved:
            return units
        rows = await fetch_rows(
            "SELECT `released_quantity`, `released_at` FROM `order_claim` WHERE `id` = ?",
            [claim.id],
            connection=conn,
        )
        if not rows or rows[0]["released_at"] is not None:
            return 0
        released = rows[0]["released_quantity"]
    raise RuntimeError(f"order claim {claim.id} kept moving while being released")


async def _give_back(conn, by_kind: dict[str, list[Claim]]) -> None:
    for kind in sorted(by_kind):
        await REGISTRY[kind].release(conn, by_kind[kind])
