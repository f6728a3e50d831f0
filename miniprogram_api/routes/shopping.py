"""The cart, delivery addresses and the checkout preview: all the shopper's own."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web

from commerce.cart import services as cart
from commerce.cart.services import CartView
from commerce.fulfilment import queries as fulfilment
from commerce.fulfilment.queries import PickupPointView
from commerce.orders.checkout import Preview, preview_checkout
from commerce.pricing.pipeline import PricedAdjustment, PricedLine
from commerce.users import addresses
from commerce.users.addresses import AddressInput
from commerce.users.services import Shopper
from miniprogram_api.keys import CORE
from miniprogram_api.routing import Router, path_id
from miniprogram_api.schemas.shopping import (
    AddressIn,
    AddressListOut,
    AddressOut,
    CartItemIn,
    CartItemPatch,
    CartOut,
    CheckoutIn,
    PreviewOut,
)

router = Router()
CART, ADDRESSES, CHECKOUT = "购物车", "收货地址", "结算"


@router.get("/cart", summary="我的购物车", tag=CART, response=CartOut, auth=True)
async def get_cart(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    return _cart(await cart.view_cart(shopper=shopper))


@router.post("/cart/items", summary="加入购物车", tag=CART, body=CartItemIn, response=CartOut, auth=True)
async def add_to_cart(request: web.Request, *, body: CartItemIn, shopper: Shopper) -> dict[str, Any]:
    return _cart(await cart.add_item(shopper=shopper, sku_id=body.sku_id, quantity=body.quantity))


@router.patch(
    "/cart/items/{id}", summary="修改数量或勾选", tag=CART, body=CartItemPatch, response=CartOut, auth=True
)
async def change_cart_item(request: web.Request, *, body: CartItemPatch, shopper: Shopper) -> dict[str, Any]:
    view = await cart.update_item(
        shopper=shopper, item_id=path_id(request), quantity=body.quantity, selected=body.selected
    )
    return _cart(view)


@router.delete("/cart/items/{id}", summary="移出购物车", tag=CART, response=CartOut, auth=True)
async def remove_cart_item(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    return _cart(await cart.remove_item(shopper=shopper, item_id=path_id(request)))


@router.get("/addresses", summary="我的收货地址", tag=ADDRESSES, response=AddressListOut, auth=True)
async def list_addresses(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    return {"items": [asdict(a) for a in await addresses.list_addresses(shopper=shopper)]}


@router.post(
    "/addresses",
    summary="新增收货地址",
    tag=ADDRESSES,
    body=AddressIn,
    response=AddressOut,
    auth=True,
    status=201,
)
async def create_address(request: web.Request, *, body: AddressIn, shopper: Shopper) -> dict[str, Any]:
    return asdict(await addresses.create_address(shopper=shopper, address=AddressInput(**body.model_dump())))


@router.put(
    "/addresses/{id}", summary="修改收货地址", tag=ADDRESSES, body=AddressIn, response=AddressOut, auth=True
)
async def update_address(request: web.Request, *, body: AddressIn, shopper: Shopper) -> dict[str, Any]:
    updated = await addresses.update_address(
        shopper=shopper, address_id=path_id(request), address=AddressInput(**body.model_dump())
    )
    return asdict(updated)


@router.delete("/addresses/{id}", summary="删除收货地址", tag=ADDRESSES, auth=True, status=204)
async def delete_address(request: web.Request, *, shopper: Shopper) -> web.Response:
    await addresses.delete_address(shopper=shopper, address_id=path_id(request))
    return web.Response(status=204)


@router.post(
    "/checkout/preview", summary="结算预览", tag=CHECKOUT, body=CheckoutIn, response=PreviewOut, auth=True
)
async def checkout_preview(request: web.Request, *, body: CheckoutIn, shopper: Shopper) -> dict[str, Any]:
    items = [(item.sku_id, item.quantity) for item in body.items] if body.items is not None else None
    preview = await preview_checkout(
        shopper=shopper,
        items=items,
        from_cart=body.from_cart,
        address_id=body.address_id,
        settings=request.app[CORE].settings,
        fulfilment=body.fulfilment_choice(),
        choices=body.choices(),
        contact=body.contact_value(),
    )
    merchants = [order.merchant_id for order in preview.quote.orders]
    return _preview(preview, await fulfilment.points_serving(merchants))


def _point(point: PickupPointView) -> dict[str, Any]:
    return {
        "id": point.id,
        "name": point.name,
        "address": point.address,
        "opening_hours": point.opening_hours,
    }


def _cart(view: CartView) -> dict[str, Any]:
    return {
        "lines": [
            {**asdict(line), "state": line.state.value, "buyable": line.buyable} for line in view.lines
        ],
        "selected_quantity": view.selected_quantity,
        "selected_total": view.selected_total,
    }


def _lines(lines: list[PricedLine]) -> list[dict[str, Any]]:
    return [
        {
            **asdict(priced.line),
            "line_total": priced.line_total,
            "discount": priced.discount,
            "payable": priced.payable,
        }
        for priced in lines
    ]


def _discounts(adjustments: list[PricedAdjustment]) -> list[dict[str, Any]]:
    return [{"kind": adj.kind, "label": adj.label, "amount": adj.amount} for adj in adjustments]


def _preview(preview: Preview, pickup_points: list[PickupPointView]) -> dict[str, Any]:
    quote = preview.quote
    return {
        "groups": [
            {
                "merchant_id": order.merchant_id,
                "lines": _lines(order.lines),
                "items_total": order.items_total,
                "shipping_fee": order.shipping_fee,
                "discounts": _discounts(order.discounts),
                "discount_total": order.discount_total,
                "payable": order.payable,
            }
            for order in quote.orders
        ],
        "lines": _lines(quote.lines),
        "items_total": quote.items_total,
        "shipping_fee": quote.shipping_fee,
        "discounts": _discounts(quote.discounts),
        "discount_total": quote.discount_total,
        "payable": quote.payable,
        "address": asdict(preview.address) if preview.address else None,
        "problems": [{**asdict(p), "state": p.state.value} for p in preview.problems],
        "order_problem": asdict(preview.order_problem) if preview.order_problem else None,
        "can_submit": preview.can_submit,
        "fulfilment": {
            "kind": "pickup" if preview.pickup_point else "express",
            "pickup_point": _point(preview.pickup_point) if preview.pickup_point else None,
        },
        "pickup_points": [_point(point) for point in pickup_points],
    }
