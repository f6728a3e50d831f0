"""The mini-program shipping upload (发货信息管理): WeChat holds the settlement of a mini-program
payment until the merchant tells it how the goods left, so every shipped order is uploaded.
Driven by the outbox after the order is marked shipped (shop.subscriptions); idempotent."""

from __future__ import annotations

import logging
from typing import Any

from commerce import clock
from commerce.orders import queries as orders
from commerce.payments import queries as payments
from commerce.shipping.queries import carrier_code
from commerce.users.services import mask_phone
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import WeChatError

log = logging.getLogger(__name__)

EXPRESS = 1  # logistics_type: parcels by an express carrier
UNIFIED = 1  # delivery_mode: everything in one shipment
# "Already shipped" / "the one re-upload was used": an earlier delivery of this event got through.
ALREADY_UPLOADED = frozenset({10060002, 10060003})


async def upload_shipping_info(*, order_id: int, wechat: WeChatClient) -> bool:
    """Tell WeChat how a paid order was shipped; False when there is nothing to tell."""
    facts = await orders.order_facts(order_id)
    paid = await payments.paid_transaction(order_id)
    shipment = await orders.shipment_of(order_id)
    if facts is None or paid is None or shipment is None:
        log.warning("order %s: no paid transaction or shipment to upload", order_id)
        return False
    carrier, tracking_no = shipment
    code = carrier_code(carrier) or carrier
    parcel: dict[str, Any] = {
        "tracking_no": tracking_no,
        "express_company": code,
        "item_desc": facts.summary[:120],
    }
    if code == "SF":  # SF Express requires the receiver's (masked) phone
        parcel["contact"] = {"receiver_contact": mask_phone(str(facts.address.get("phone", "")))}
    payload = {
        "order_key": {"order_number_type": 2, "transaction_id": paid.transaction_id},
        "logistics_type": EXPRESS,
        "delivery_mode": UNIFIED,
        "shipping_list": [parcel],
        "upload_time": clock.to_shanghai(clock.now()).isoformat(timespec="milliseconds"),
        "payer": {"openid": paid.payer_openid},
    }
    try:
        await wechat.upload_shipping_info(payload)
    except WeChatError as error:
        if error.errcode in ALREADY_UPLOADED:
            return True
        raise  # the outbox retries with backoff; a lasting refusal shows in its last_error
    return True
