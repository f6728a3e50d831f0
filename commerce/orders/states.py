from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"  # created, stock reserved, waiting for WeChat Pay
    PAID = "paid"  # paid; the merchant ships it
    SHIPPED = "shipped"  # on its way; the shopper confirms receipt, or it completes by itself
    COMPLETED = "completed"  # received: final
    CANCELLED = "cancelled"  # by the shopper or unpaid past its deadline; stock released: final
    REFUNDING = "refunding"  # refund asked for before shipment, waiting for WeChat Pay
    REFUNDED = "refunded"  # money returned: final


ALLOWED_TRANSITIONS: dict[OrderStatus, set[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, OrderStatus.CANCELLED},
    OrderStatus.PAID: {OrderStatus.SHIPPED, OrderStatus.REFUNDING},
    OrderStatus.SHIPPED: {OrderStatus.COMPLETED},
    OrderStatus.REFUNDING: {OrderStatus.REFUNDED},
    OrderStatus.COMPLETED: set(),
    OrderStatus.CANCELLED: set(),
    OrderStatus.REFUNDED: set(),
}


class EventType(StrEnum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    # Money arrived for an order that can no longer take it (cancelled, or paid already):
    # it goes back to the shopper automatically.
    PAYMENT_RETURNED = "payment_returned"
    REFUND_FAILED = "refund_failed"  # WeChat Pay could not refund: staff must act
