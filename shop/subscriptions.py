"""Who listens to what: the one subscription table of the service.

The core publishes typed events (each context's `events.py`) through the outbox; this table,
built from the started core's adapters, names each subscriber. The outbox records delivery per
(event, subscriber name), so keep a name once it has run: renaming it delivers again what the
old name had not finished, and a removed name's pending deliveries are closed.

Catalogue (topic: payload fields → subscribers):

- `order.created` (OrderPlaced): order_id → nobody yet.
- `order.status_changed` (OrderStatusChanged): order_id, from, to →
  `shipping.upload_shipping_info` (to shipped: WeChat's mini-program shipping upload);
  `payments.close_cancelled_prepays` (to cancelled: close its open prepays at WeChat Pay).
- `refund.requested` (RefundRequested): refund_id → `payments.submit_refund` (ask WeChat Pay).
- `refund.succeeded` (RefundSucceeded): refund_id, order_id, aftersale_id (None: an automatic
  refund, or written before after-sales) → `aftersales.refund_succeeded` (the request is
  refunded; the order closes when nothing it sold is left); `ledger.post_refund` (the REFUND
  entry: commission and fee reversed in proportion, or the returned money of an automatic one).
- `payment.received` (PaymentReceived): payment_id, paid_order_ids, returned_order_ids, amount
  (fen) → `ledger.post_payment` (the PAYMENT entry: clearing, commission, fee, merchant payable;
  refunds due for the orders it could not pay).
- `refund.failed` (RefundFailed): refund_id, order_id, aftersale_id → `aftersales.refund_failed`
  (a timeline row: staff see the failure and what to do).
- `aftersale.status_changed` (AfterSaleStatusChanged): aftersale_id, order_id, user_id,
  from_status ("" when asked), to_status → `bot.tell_shopper_aftersale` (official-account
  message to the shopper: approved, with the return address when the goods go back; refused,
  with the reason; refunded, with the amount).
- `payment.returned` (PaymentReturned): order_id, user_id, amount (fen), reason, paid_twice →
  `payments.tell_shopper_money_returned` (official-account message to the shopper).
- `fulfilment.status_changed` (FulfilmentStatusChanged): fulfilment_id, order_id, kind, from, to →
  `fulfilment.tell_shopper_ready` (awaiting → ready: an official-account message that the order
  waits at its chosen point); nothing else yet (an express parcel delivered, a pickup picked up;
  the order's own move to shipped is what WeChat's shipping upload follows).
- `catalog.product_changed` (ProductChanged): product_id → nobody yet (search refreshes by its
  change counter).

Without WeChat Pay configured the payment subscribers are left out (their events are closed
undelivered, as they were before the table existed).
"""

from __future__ import annotations

from bot import notices
from commerce.aftersales import handlers as aftersales
from commerce.aftersales.events import AfterSaleStatusChanged
from commerce.core import Core
from commerce.fulfilment import handlers as fulfilment
from commerce.fulfilment.events import FulfilmentStatusChanged
from commerce.fulfilment.states import FulfilmentStatus
from commerce.ledger import handlers as ledger
from commerce.orders.events import OrderStatusChanged
from commerce.orders.states import OrderStatus
from commerce.outbox import Subscriber
from commerce.payments import handlers as payments
from commerce.payments.events import (
    PaymentReceived,
    PaymentReturned,
    RefundFailed,
    RefundRequested,
    RefundSucceeded,
)
from commerce.shipping import services as shipping


def subscribers(core: Core) -> list[Subscriber]:
    """The table, bound to the core's clients (called by the core when it starts)."""
    wechat, mp, pay = core.wechat, core.mp, core.pay
    table: list[Subscriber] = [
        # The books first: an event's subscribers run in this order, so once after-sales has
        # heard of a refund (and the order closed), its money is in the books too.
        Subscriber("ledger.post_payment", PaymentReceived, ledger.post_payment),
        Subscriber("ledger.post_refund", RefundSucceeded, ledger.post_refund),
        Subscriber(
            "shipping.upload_shipping_info",
            OrderStatusChanged,
            lambda e: shipping.upload_shipping_info(order_id=e.order_id, wechat=wechat),
            when=lambda e: e.to_status is OrderStatus.SHIPPED,
        ),
        Subscriber(
            "fulfilment.tell_shopper_ready",
            FulfilmentStatusChanged,
            lambda e: fulfilment.tell_shopper_ready(e, mp=mp),
            when=lambda e: e.to_status is FulfilmentStatus.READY,
        ),
        Subscriber(
            "aftersales.refund_succeeded",
            RefundSucceeded,
            aftersales.refund_succeeded,
            when=lambda e: e.aftersale_id is not None,
        ),
        Subscriber(
            "aftersales.refund_failed",
            RefundFailed,
            aftersales.refund_failed,
            when=lambda e: e.aftersale_id is not None,
        ),
        Subscriber(
            "bot.tell_shopper_aftersale",
            AfterSaleStatusChanged,
            lambda e: notices.tell_shopper_aftersale(e, mp=mp),
            when=notices.tells_shopper,
        ),
    ]
    if pay is not None:
        table += [
            Subscriber(
                "payments.close_cancelled_prepays",
                OrderStatusChanged,
                lambda e: payments.close_open_attempts(order_id=e.order_id, pay=pay),
                when=lambda e: e.to_status is OrderStatus.CANCELLED,
            ),
            Subscriber(
                "payments.submit_refund",
                RefundRequested,
                lambda e: payments.submit_refund(refund_id=e.refund_id, pay=pay),
            ),
            Subscriber(
                "payments.tell_shopper_money_returned",
                PaymentReturned,
                lambda e: payments.tell_shopper_money_returned(e, mp=mp),
            ),
        ]
    return table
