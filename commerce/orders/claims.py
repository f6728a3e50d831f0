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

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from commerce import clock
from commerce.catalog import services as catalog
from commerce.community import claims as community
from commerce.db import execute, fetch_rows, insert_many, model_row
from commerce.groupbuy import seats as group_seats
from commerce.orders.models import OrderClaim
from commerce.pricing.pipeline import Claim
from commerce.referrals import attribution as referral

Take = Callable[[object, Sequence[Claim]], Awaitable[bool]]  # (connection, claims) -> all taken
Release = Callable[[object, Sequence[Claim]], Awaitable[None]]
# (connection, [(order id, claim)]) -> None: what a kind writes of its own once the orders
# that took its claims exist, in the checkout's transaction (a community sale's order row).
Recorded = Callable[[object, Sequence[tuple[int, Claim]]], Awaitable[None]]


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
    data: dict = field(default_factory=dict)


# (the claim, the refund) -> how many of the claim's units the refund gives back (0: kept).
OnRefund = Callable[[ClaimRow, RefundedGoods], int]


@dataclass(frozen=True)
class ClaimKind:
    take: Take
    release: Release
    on_refund: OnRefund
    recorded: Recorded | None = None
    # A paid order holding this kind waits (OrderStatus.GROUPING) until the kind lets it go.
    paid_waits: bool = False


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
    # A seat in a 拼团 group: held at checkout (or a new group opened), let go when the order is
    # cancelled; a refund keeps it counted; the paid order waits until its group fills.
    "group_seat": ClaimKind(
        take=group_seats.take,
        release=group_seats.release,
        on_refund=group_seats.on_refund,
        recorded=group_seats.recorded,
        paid_waits=True,
    ),
    # Takes nothing: checks the sale is still open, and records the order in it.
    "community": ClaimKind(
        take=community.take_sale,
        release=community.release_sale,
        on_refund=lambda claim, refunded: 0,
        recorded=community.record_sale_orders,
    ),
    # Takes nothing: stamps the KOL the order is attributed to on the order and its lines.
    "referral": ClaimKind(
        take=referral.take,
        release=referral.release,
        on_refund=referral.on_refund,
        recorded=referral.recorded,
    ),
}


def waits_when_paid(kinds: Sequence[str]) -> bool:
    """Whether an order holding claims of these kinds waits when paid instead of being paid."""
    return any(REGISTRY[kind].paid_waits for kind in kinds)


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
    by_kind: dict[str, list[tuple[int, Claim]]] = defaultdict(list)
    for order_id, claims in taken:
        for claim in claims:
            by_kind[claim.kind].append((order_id, claim))
    for kind in sorted(by_kind):
        if (hook := REGISTRY[kind].recorded) is not None:
            await hook(conn, by_kind[kind])


async def release_all(conn, *, order_id: int) -> int:
    """Give back what is left of every claim of the order, inside the caller's transaction;
    how many claims were. Each claim is marked released by a conditional update first (from
    the released quantity read): the one that moves the row releases the rest, a racing
    release finds nothing left to do."""
    by_kind: dict[str, list[Claim]] = defaultdict(list)
    for claim in await _open_claims(conn, order_id):
        left = await _release_units(conn, claim, claim.quantity - claim.released_quantity)
        if left:
            by_kind[claim.kind].append(Claim(claim.kind, claim.ref, left, claim.data))
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
            by_kind[claim.kind].append(Claim(claim.kind, claim.ref, released, claim.data))
            if claim.kind == "stock":  # several claims of one SKU share the refunded units
                wanted[int(claim.ref)] = wanted.get(int(claim.ref), 0) - released
    await _give_back(conn, by_kind)
    return sum(claim.quantity for claims in by_kind.values() for claim in claims)


async def _open_claims(conn, order_id: int) -> list[ClaimRow]:
    rows = await fetch_rows(
        "SELECT `id`, `kind`, `ref`, `quantity`, `released_quantity`, `data` FROM `order_claim`"
        " WHERE `order_id` = ? AND `released_at` IS NULL ORDER BY `id`",
        [order_id],
        connection=conn,
    )
    return [
        ClaimRow(r["id"], r["kind"], r["ref"], r["quantity"], r["released_quantity"], _json(r["data"]))
        for r in rows
    ]


def _json(value) -> dict:
    return json.loads(value) if isinstance(value, str | bytes) else dict(value or {})


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
