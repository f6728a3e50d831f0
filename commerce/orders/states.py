from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"  # created, stock reserved, waiting for WeChat Pay
    PAID = "paid"  # paid; the merchant ships it
    SHIPPED = "shipped"  # on its way; the shopper confirms receipt, or it completes by itself
    COMPLETED = "completed"  # received: final
    CANCELLED = "cancelled"  # by the shopper or unpaid past its deadline; stock released: final
    # A refund asked for: before shipment it goes to WeChat Pay at once; after shipment it waits
    # for staff to approve (then WeChat Pay) or refuse (back to shipped). The order remembers
    # where it came from (Order.refund_from).
    REFUNDING = "refunding"
    REFUNDED = "refunded"  # money returned: final


ALLOWED_TRANSITIONS: dict[OrderStatus, set[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, OrderStatus.CANCELLED},
    OrderStatus.PAID: {OrderStatus.SHIPPED, OrderStatus.REFUNDING},
    OrderStatus.SHIPPED: {OrderStatus.COMPLETED, OrderStatus.REFUNDING},
    # Back to shipped when staff refuse an after-sales refund.
    OrderStatus.REFUNDING: {OrderStatus.REFUNDED, OrderStatus.SHIPPED},
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
    REFUND_APPROVED = "refund_approved"  # staff approved an after-sales refund: off to WeChat Pay
    REFUND_RETRIED = "refund_retried"  # staff submitted a failed refund again (a new out_refund_no)
    NOTE = "note"  # a staff note on the order (params: text); changes nothing
