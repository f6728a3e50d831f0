"""Community sales for shoppers, and the leader's side of them: their batches, today's orders at
their point, and verifying a shopper's pickup code there.

Errors: leader_not_applied / leader_not_approved (403) for a shopper who is no approved
leader; another leader's batch is 404 community_batch_not_found; pickup_code_invalid (400),
pickup_wrong_point and pickup_code_used (409)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from commerce import clock
from commerce.community import batches, pickups, sale_queries, sales
from commerce.community.batches import BatchView
from commerce.community.pickups import LeaderOrderView
from commerce.orders import queries as orders
from commerce.users.services import Shopper
from miniprogram_api.routing import Router, path_id
from miniprogram_api.schemas.community_sales import (
    BatchListOut,
    LeaderOrderListOut,
    SaleListOut,
    VerifiedOut,
    VerifyIn,
)

router = Router()
TAG = "社区团购"


@router.get(
    "/community/sales", summary="今日进行中的社区团购（团购价、截单时间）", tag=TAG, response=SaleListOut
)
async def open_sales(request: web.Request) -> dict[str, Any]:
    return {"items": [_sale(sale) for sale in await sales.open_sales()]}


def _sale(sale: sales.SaleView) -> dict[str, Any]:
    return {
        "id": sale.id,
        "title": sale.title,
        "sale_date": sale.sale_date.isoformat(),
        "cutoff_at": _shanghai(sale.cutoff_at),
        "status": sale.status.value,
        "items": [
            {
                "sku_id": i.sku_id,
                "product_id": i.product_id,
                "title": i.title,
                "specs": i.specs,
                "image": i.image,
                "list_price": i.list_price,
                "community_price": i.community_price,
                "on_sale": i.on_sale,
                "stock": i.stock,
            }
            for i in sale.items
        ],
    }


@router.post(
    "/leader/pickups/verify",
    summary="团长核销提货码（仅限本自提点的订单，每个码只能核销一次）",
    tag=TAG,
    body=VerifyIn,
    response=VerifiedOut,
    auth=True,
)
async def verify(request: web.Request, *, body: VerifyIn, shopper: Shopper) -> dict[str, Any]:
    order_id = await pickups.verify_pickup_code(user_id=shopper.user_id, code=body.code)
    numbers = await orders.order_numbers({order_id})
    return {"order_id": order_id, "order_no": numbers.get(order_id, "")}


@router.get("/leader/batches", summary="团长的批次", tag=TAG, response=BatchListOut, auth=True)
async def leader_batches(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    leader = await sale_queries.approved_leader_of(user_id=shopper.user_id)
    return {"items": [_batch(b) for b in await batches.leader_batches(leader_id=leader.id)]}


@router.get(
    "/leader/batches/{id}/orders", summary="批次内的订单", tag=TAG, response=LeaderOrderListOut, auth=True
)
async def batch_orders(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    leader = await sale_queries.approved_leader_of(user_id=shopper.user_id)
    batch = await batches.leader_batch(leader_id=leader.id, batch_id=path_id(request))
    views = await pickups.order_views(await batches.batch_order_ids(batch_id=batch.id))
    return await _orders(views, leader.id)


@router.get(
    "/leader/today", summary="今日在本自提点下单的订单", tag=TAG, response=LeaderOrderListOut, auth=True
)
async def today(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    leader = await sale_queries.approved_leader_of(user_id=shopper.user_id)
    return await _orders(await pickups.orders_today(leader=leader), leader.id)


async def _orders(views: list[LeaderOrderView], leader_id: int) -> dict[str, Any]:
    flagged = {flag.order_id for flag in await pickups.unclaimed(leader_id=leader_id)}
    return {
        "items": [
            {
                "order_id": v.order_id,
                "order_no": v.order_no,
                "shopper": v.shopper,
                "phone": v.phone,
                "summary": v.summary,
                "payable": v.payable,
                "paid_at": _shanghai(v.paid_at),
                "batch_id": v.batch_id,
                "pickup_status": v.pickup_status,
                "unclaimed": v.order_id in flagged,
            }
            for v in views
        ]
    }


def _batch(b: BatchView) -> dict[str, Any]:
    return {
        "id": b.id,
        "sale_id": b.sale_id,
        "sale_title": b.sale_title,
        "status": b.status.value,
        "order_count": b.order_count,
        "created_at": _shanghai(b.created_at),
        "dispatched_at": _shanghai(b.dispatched_at),
        "arrived_at": _shanghai(b.arrived_at),
    }


def _shanghai(moment) -> str | None:
    return clock.to_shanghai(moment).isoformat() if moment else None
