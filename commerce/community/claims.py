"""The claim a community sale's checkout declares (kind "community"): it takes nothing, but
checks in the order's transaction that the sale still takes orders, and once the orders exist
records each in the sale (CommunityOrder). Registered in commerce.orders.claims; imports
nothing of orders."""

from __future__ import annotations

from collections.abc import Sequence

from commerce import clock
from commerce.community.errors import SaleError
from commerce.community.models import CommunityOrder, CommunitySale, CommunitySaleItem
from commerce.community.states import SaleStatus
from commerce.db import insert_many, model_row
from commerce.pricing.pipeline import Claim

KIND = "community"


def sale_claim(*, sale_id: int, user_id: int, pickup_point_id: int, sku_ids: Sequence[int]) -> Claim:
    return Claim(
        KIND,
        str(sale_id),
        1,
        {"user_id": user_id, "pickup_point_id": pickup_point_id, "sku_ids": sorted(sku_ids)},
    )


async def take_sale(conn, claims: Sequence[Claim]) -> bool:
    """The sale is open and before its cut-off now, and sells each SKU (the quote checked it
    too; a cut-off or a cancellation may have come in between)."""
    now = clock.now()
    for claim in claims:
        sale_id = int(claim.ref)
        open_now = await (
            CommunitySale.filter(id=sale_id, status=SaleStatus.OPEN, starts_at__lte=now, cutoff_at__gt=now)
            .using_db(conn)
            .exists()
        )
        if not open_now:
            raise SaleError.CLOSED.error()
        wanted = set(claim.data.get("sku_ids", []))
        sold = set(
            await CommunitySaleItem.filter(sale_id=sale_id, sku_id__in=list(wanted))
            .using_db(conn)
            .values_list("sku_id", flat=True)
        )
        if wanted - sold:
            raise SaleError.NOT_IN_SALE.error()
    return True


async def release_sale(conn, claims: Sequence[Claim]) -> None:
    """Nothing was taken: nothing to give back (the order's row stays, unpaid, out of batches)."""


async def record_sale_orders(conn, taken: Sequence[tuple[int, Claim]]) -> None:
    now = clock.now()
    rows = [
        model_row(
            CommunityOrder,
            {
                "order_id": order_id,
                "sale_id": int(claim.ref),
                "user_id": claim.data["user_id"],
                "pickup_point_id": claim.data["pickup_point_id"],
                "leader_id": None,
                "batch_id": None,
                "paid_at": None,
                "created_at": now,
            },
        )
        for order_id, claim in taken
    ]
    await insert_many(CommunityOrder._meta.db_table, rows, connection=conn)
