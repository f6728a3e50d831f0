from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"  # created, stock reserved, waiting for WeChat Pay
    PAID = "paid"  # paid; the merchant ships it
    SHIPPED = "shipped"  # on its way; the shopper confirms receipt, or it completes by itself
    COMPLETED = "completed"  # received: final
    CANCELLED = "cancelled"  # by the shopper or unpaid past its deadline; stock released: final
    # Everything it sold was refunded through after-sales (commerce.aftersales), which owns the
    # requests and their refunds; the order only learns the end: final.
    CLOSED = "closed"


ALLOWED_TRANSITIONS: dict[OrderStatus, set[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, OrderStatus.CANCELLED},
    OrderStatus.PAID: {OrderStatus.SHIPPED, OrderStatus.CLOSED},
    OrderStatus.SHIPPED: {OrderStatus.COMPLETED, OrderStatus.CLOSED},
    OrderStatus.COMPLETED: {OrderStatus.CLOSED},  # refunded within the after-sales window
    OrderStatus.CANCELLED: set(),
    OrderStatus.CLOSED: set(),
}


class EventType(StrEnum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    # Money arrived for an order that can no longer take it (cancelled, or paid already):
    # it goes back to the shopper automatically.
    PAYMENT_RETURNED = "payment_returned"
    REFUND_FAILED = "refund_failed"  # WeChat Pay could not refund: staff must act
    # Kept for the rows of the whole-order refunds before after-sales had its own timeline.
    REFUND_APPROVED = "refund_approved"
    REFUND_RETRIED = "refund_retried"  # staff submitted a failed refund again (a new out_refund_no)
    NOTE = "note"  # a staff note on the order (params: text); changes nothing
