from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"  # created, stock reserved, waiting for WeChat Pay
    PAID = "paid"  # paid; the merchant ships it
    # Paid for a seat in a 拼团 group (commerce.groupbuy) that has not filled yet: not to be
    # fulfilled; paid when the group succeeds, closed (refunded in full) when it fails.
    GROUPING = "grouping"
    SHIPPED = "shipped"  # on its way; the shopper confirms receipt, or it completes by itself
    COMPLETED = "completed"  # received: final
    CANCELLED = "cancelled"  # by the shopper or unpaid past its deadline; stock released: final
    # Everything it sold was refunded through after-sales (commerce.aftersales), which owns the
    # requests and their refunds; the order only learns the end: final.
    CLOSED = "closed"


ALLOWED_TRANSITIONS: dict[OrderStatus, set[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, OrderStatus.GROUPING, OrderStatus.CANCELLED},
    OrderStatus.GROUPING: {OrderStatus.PAID, OrderStatus.CLOSED},
    OrderStatus.PAID: {OrderStatus.SHIPPED, OrderStatus.CLOSED},
    OrderStatus.SHIPPED: {OrderStatus.COMPLETED, OrderStatus.CLOSED},
    OrderStatus.COMPLETED: {OrderStatus.CLOSED},  # refunded within the after-sales window
    OrderStatus.CANCELLED: set(),
    OrderStatus.CLOSED: set(),
}


# How each status reads to shoppers and staff.
STATUS_LABELS: dict[OrderStatus, str] = {
    OrderStatus.PENDING_PAYMENT: "待支付",
    OrderStatus.PAID: "待发货",
    OrderStatus.GROUPING: "待成团",
    OrderStatus.SHIPPED: "已发货",
    OrderStatus.COMPLETED: "已完成",
    OrderStatus.CANCELLED: "已取消",
    OrderStatus.CLOSED: "已关闭",
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
