"""The mini-program shipping upload (发货信息管理): WeChat holds the settlement of a mini-program
payment until the merchant tells it how the goods left, so every order handed over is uploaded.
Driven by the outbox after the order is marked shipped (shop.subscriptions); idempotent."""

from __future__ import annotations

import logging
from typing import Any

from commerce import clock
from commerce.fulfilment.queries import fulfilment_of
from commerce.fulfilment.states import LOGISTICS_TYPE, FulfilmentKind
from commerce.orders import queries as orders
from commerce.orders.states import OrderStatus
from commerce.payments import queries as payments
from commerce.shipping.queries import carrier_code
from commerce.users.services import mask_phone
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import WeChatError

log = logging.getLogger(__name__)

UNIFIED = 1  # delivery_mode: one payment, one parcel
SPLIT = 2  # delivery_mode: one payment, several parcels (an order per merchant, each its own)
# "Already shipped" / "the one re-upload was used": an earlier delivery of this event got through.
ALREADY_UPLOADED = frozenset({10060002, 10060003})


async def upload_shipping_info(*, order_id: int, wechat: WeChatClient) -> bool:
    """Tell WeChat how a paid order was handed over; False when there is nothing to tell.

    The order's fulfilment says how (logistics_type 1 express, 4 picked up, 3 virtual; a pickup
    or virtual order still sends one shipping_list item with its description, and no carrier).
    A payment holding one order is unified delivery. A payment holding several (one per
    merchant) is split delivery, which WeChat takes for express only: each upload lists the
    parcel of every order of it shipped so far, and says is_all_delivered once none is left to
    ship, so an upload delayed or repeated by the outbox never loses a parcel nor ends the
    shipment early.
    """
    facts = await orders.order_facts(order_id)
    paid = await payments.paid_transaction(order_id)
    checkout = await orders.checkout_of_order(order_id)
    way = await _way_of(order_id)
    if facts is None or paid is None or checkout is None or way is None:
        log.warning("order %s: no paid transaction or fulfilment to upload", order_id)
        return False
    # The orders this transaction paid (not those it was returned to: cancelled, paid twice).
    held = [o for o in checkout.orders if await _paid_by(o.id, paid.transaction_id)]
    if len(held) > 1 and way[0] is not FulfilmentKind.EXPRESS:
        log.warning("order %s: split delivery takes express parcels only; not uploaded", order_id)
        return False
    parcels = [_parcel(facts, way)] if len(held) <= 1 else []
    for held_order in held if len(held) > 1 else []:
        held_way = await _way_of(held_order.id)
        if held_way is not None and held_way[0] is FulfilmentKind.EXPRESS:
            parcels.append(_parcel(held_order, held_way))
    payload: dict[str, Any] = {
        "order_key": {"order_number_type": 2, "transaction_id": paid.transaction_id},
        "logistics_type": LOGISTICS_TYPE[way[0]],
        "delivery_mode": UNIFIED if len(held) <= 1 else SPLIT,
        "shipping_list": parcels,
        "upload_time": clock.to_shanghai(clock.now()).isoformat(timespec="milliseconds"),
        "payer": {"openid": paid.payer_openid},
    }
    if len(held) > 1:
        # Paid and not shipped yet: what is still to come (a refunded or returned order never ships).
        payload["is_all_delivered"] = not any(o.status is OrderStatus.PAID for o in held)
    try:
        await wechat.upload_shipping_info(payload)
    except WeChatError as error:
        if error.errcode in ALREADY_UPLOADED:
            return True
        raise  # the outbox retries with backoff; a lasting refusal shows in its last_error
    return True


async def _way_of(order_id: int) -> tuple[FulfilmentKind, str, str] | None:
    """(kind, carrier, tracking number) of the order's fulfilment; an order shipped before
    fulfilments were recorded (and not back-filled) by its own carrier columns."""
    found = await fulfilment_of(order_id)
    if found is not None:
        return found.kind, found.carrier, found.tracking_no
    shipment = await orders.shipment_of(order_id)
    return (FulfilmentKind.EXPRESS, *shipment) if shipment is not None else None


async def _paid_by(order_id: int, transaction_id: str) -> bool:
    paid = await payments.paid_transaction(order_id)
    return paid is not None and paid.transaction_id == transaction_id


def _parcel(facts: orders.OrderFacts, way: tuple[FulfilmentKind, str, str]) -> dict[str, Any]:
    kind, carrier, tracking_no = way
    parcel: dict[str, Any] = {"item_desc": facts.summary[:120]}
    if kind is not FulfilmentKind.EXPRESS:  # picked up or virtual: no carrier, no tracking number
        return parcel
    code = carrier_code(carrier) or carrier
    parcel = {"tracking_no": tracking_no, "express_company": code, **parcel}
    if code == "SF":  # SF Express requires the receiver's (masked) phone
        parcel["contact"] = {"receiver_contact": mask_phone(str(facts.address.get("phone", "")))}
    return parcel
