"""Placing, listing, reading and cancelling the shopper's own orders."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web

from commerce import clock
from commerce.aftersales import queries as aftersale_queries
from commerce.aftersales import services as aftersales
from commerce.config import Settings
from commerce.errors import CommerceError
from commerce.groupbuy import queries as groups
from commerce.orders import queries, services
from commerce.orders.queries import CheckoutView, OrderView
from commerce.orders.states import STATUS_LABELS
from commerce.payments import queries as payment_queries
from commerce.payments import services as payments
from commerce.users.services import Shopper
from miniprogram_api.keys import CORE
from miniprogram_api.routes.aftersales import aftersale_json, can_apply, plain
from miniprogram_api.routing import Router, path_id, read_json, validate
from miniprogram_api.schemas.orders import (
    CancelIn,
    OrderIn,
    OrderListQuery,
    OrderOut,
    OrderPageOut,
    PlacedOrderOut,
)
from miniprogram_api.schemas.payments import PaymentParamsOut, RefundIn

router = Router()
TAG = "订单"


@router.post(
    "/orders",
    summary="下单（请求头 Idempotency-Key 必填）",
    tag=TAG,
    body=OrderIn,
    response=PlacedOrderOut,
    auth=True,
    status=201,
)
async def place_order(request: web.Request, *, body: OrderIn, shopper: Shopper) -> dict[str, Any]:
    items = [(item.sku_id, item.quantity) for item in body.items] if body.items is not None else None
    core = request.app[CORE]
    checkout = await services.place_order(
        shopper=shopper,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
        settings=core.settings,
        redis_client=core.redis,
        items=items,
        from_cart=body.from_cart,
        address_id=body.address_id,
        fulfilment=body.fulfilment_choice(),
        choices=body.choices(),
        contact=body.contact_value(),
    )
    # The first order's fields at the top, as before checkouts held several merchants' orders
    # (rendered once: the JSON of an order is the costliest part of the answer).
    body = checkout_json(checkout)
    return {**body["orders"][0], "checkout": body}


def checkout_json(checkout: CheckoutView) -> dict[str, Any]:
    return {
        "id": checkout.id,
        "checkout_no": checkout.checkout_no,
        "payable": checkout.payable,
        "pay_deadline": _shanghai(checkout.pay_deadline),
        "orders": [order_json(order) for order in checkout.orders],
    }


@router.get("/orders", summary="我的订单", tag=TAG, query=OrderListQuery, response=OrderPageOut, auth=True)
async def list_orders(request: web.Request, *, query: OrderListQuery, shopper: Shopper) -> dict[str, Any]:
    page = await queries.list_orders(
        shopper=shopper, status=query.status, page=query.page, page_size=query.page_size
    )
    return {
        "items": [order_json(o) for o in page.items],
        "total": page.total,
        "page": page.page,
        "page_size": page.page_size,
    }


@router.get("/orders/{id}", summary="订单详情", tag=TAG, response=OrderOut, auth=True)
async def get_order(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    order = await queries.get_order(shopper=shopper, order_id=path_id(request))
    return await order_detail_json(order, shopper=shopper, settings=request.app[CORE].settings)


@router.post(
    "/orders/{id}/pay",
    summary="支付：返回 wx.requestPayment 的参数（有效期内重复请求返回同一预支付单）",
    tag=TAG,
    response=PaymentParamsOut,
    auth=True,
)
async def pay_order(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    order_id = path_id(request)
    return await payments.start_payment(shopper=shopper, order_id=order_id, pay=request.app[CORE].pay)


@router.post(
    "/orders/{id}/refunds",
    summary="整单退款（快捷方式）：把订单剩余可退的全部商品申请仅退款；未发货直接退款，已发货由商家审核。"
    "按商品、件数部分退款或退货请用 /aftersales",
    tag=TAG,
    body=RefundIn,
    response=OrderOut,
    auth=True,
    status=201,
)
async def request_refund(request: web.Request, *, body: RefundIn, shopper: Shopper) -> dict[str, Any]:
    settings = request.app[CORE].settings
    # After-sales' whole refund, refused with the codes this call always had
    # (order_not_refundable, invalid_refund_reason).
    order = await payments.request_refund(
        shopper=shopper, order_id=path_id(request), reason=body.reason, settings=settings
    )
    return await order_detail_json(order, shopper=shopper, settings=settings)


@router.post("/orders/{id}/cancel", summary="取消未支付的订单", tag=TAG, response=OrderOut, auth=True)
async def cancel_order(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    order_id = path_id(request)  # 404 before anything else for a malformed id
    reason = validate(CancelIn, await read_json(request)).reason if request.body_exists else ""
    return order_json(await services.cancel_order(shopper=shopper, order_id=order_id, reason=reason))


@router.post("/orders/{id}/confirm-receipt", summary="确认收货", tag=TAG, response=OrderOut, auth=True)
async def confirm_receipt(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    return order_json(await services.confirm_receipt(shopper=shopper, order_id=path_id(request)))


def order_json(order: OrderView) -> dict[str, Any]:
    body = asdict(order)
    body["status"] = order.status.value
    body["status_label"] = STATUS_LABELS[order.status]
    for name in ("pay_deadline", "created_at", "paid_at", "shipped_at", "completed_at"):
        body[name] = _shanghai(getattr(order, name))
    if order.fulfilment is not None:
        body["fulfilment"].update(kind=order.fulfilment.kind.value, status=order.fulfilment.status.value)
    body["refunds"] = []
    body["aftersales"] = []
    body["can_request_aftersale"] = False
    return body


async def order_detail_json(order: OrderView, *, shopper: Shopper, settings: Settings) -> dict[str, Any]:
    """The order with its refunds, its after-sales requests and whether another may be made."""
    body = order_json(order)
    group = await groups.group_of_order(order_id=order.id)
    body["group"] = (
        None
        if group is None
        else {
            "id": group.id,
            "status": group.status.value,
            "seats_left": group.seats_left,
            "seconds_left": group.seconds_left,
            "share_path": groups.share_path(group.id),
        }
    )
    body["aftersales"] = [
        aftersale_json(view) for view in await aftersale_queries.of_order(order_id=order.id)
    ]
    try:
        options = await aftersales.aftersale_options(shopper=shopper, order_id=order.id, settings=settings)
    except CommerceError:  # not paid, closed, past its window
        body["can_request_aftersale"] = False
    else:
        body["can_request_aftersale"] = can_apply(plain(options))
    body["refunds"] = [
        {
            # What the shopper may see: never who reviewed it, nor WeChat Pay's internals.
            "out_refund_no": refund.out_refund_no,
            "amount": refund.amount,
            "reason": refund.reason,
            "automatic": refund.automatic,
            "status": refund.status.value,
            "refusal": refund.refusal,
            "created_at": _shanghai(refund.created_at),
            "succeeded_at": _shanghai(refund.succeeded_at),
        }
        for refund in await payment_queries.refunds_of(order.id)
    ]
    return body


def _shanghai(moment) -> str | None:
    return clock.to_shanghai(moment).isoformat() if moment else None
