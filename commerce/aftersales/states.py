from enum import StrEnum


class AfterSaleKind(StrEnum):
    REFUND_ONLY = "refund_only"  # 仅退款: before shipment, or goods the shopper keeps
    RETURN_REFUND = "return_refund"  # 退货退款: the goods come back before the money goes


class AfterSaleStatus(StrEnum):
    # Waiting for the merchant's review; approved by itself at review_due_at. A refund only
    # asked before anything left the merchant skips it (approved at once).
    REQUESTED = "requested"
    AWAITING_RETURN = "awaiting_return"  # return approved: the shopper sends the goods back
    RETURNING = "returning"  # the shopper gave the return's tracking number: the merchant confirms receipt
    REFUNDING = "refunding"  # a refund is at WeChat Pay (a failed one is retried by staff, never lost)
    REFUNDED = "refunded"  # the shopper has the money back: final
    REFUSED = "refused"  # the merchant said no, with a reason the shopper reads: final
    CANCELLED = "cancelled"  # the shopper withdrew it before any money moved: final


ALLOWED_TRANSITIONS: dict[AfterSaleStatus, set[AfterSaleStatus]] = {
    AfterSaleStatus.REQUESTED: {
        AfterSaleStatus.REFUNDING,  # refund only, approved
        AfterSaleStatus.AWAITING_RETURN,  # return and refund, approved
        AfterSaleStatus.REFUSED,
        AfterSaleStatus.CANCELLED,
    },
    AfterSaleStatus.AWAITING_RETURN: {AfterSaleStatus.RETURNING, AfterSaleStatus.CANCELLED},
    # Received (restocked or not) -> refunding; or refused: nothing came back, or not what was sold.
    AfterSaleStatus.RETURNING: {AfterSaleStatus.REFUNDING, AfterSaleStatus.REFUSED},
    AfterSaleStatus.REFUNDING: {AfterSaleStatus.REFUNDED},
    AfterSaleStatus.REFUNDED: set(),
    AfterSaleStatus.REFUSED: set(),
    AfterSaleStatus.CANCELLED: set(),
}

OPEN = (
    AfterSaleStatus.REQUESTED,
    AfterSaleStatus.AWAITING_RETURN,
    AfterSaleStatus.RETURNING,
    AfterSaleStatus.REFUNDING,
)


class AfterSaleEventType(StrEnum):
    REQUESTED = "requested"
    STATUS_CHANGED = "status_changed"  # approved, refused, cancelled, received, refunded
    RETURN_SHIPPED = "return_shipped"  # params: carrier, tracking_no
    RECEIVED = "received"  # params: restocked (bool)
    REFUND_FAILED = "refund_failed"  # params: out_refund_no, code, why: staff must act
    REFUND_RETRIED = "refund_retried"
    NOTE = "note"  # a staff note; changes nothing
