from enum import StrEnum


class PaymentStatus(StrEnum):
    PENDING = "pending"  # a prepay exists; the shopper may pay it
    PAID = "paid"  # WeChat Pay took the money (notified, or found by reconciliation): final
    CLOSED = "closed"  # closed unpaid at WeChat Pay (order cancelled, prepay expired): final


PAYMENT_TRANSITIONS: dict[PaymentStatus, set[PaymentStatus]] = {
    PaymentStatus.PENDING: {PaymentStatus.PAID, PaymentStatus.CLOSED},
    PaymentStatus.PAID: set(),
    PaymentStatus.CLOSED: set(),
}


class RefundStatus(StrEnum):
    # Asked for after shipment: staff approve (-> requested) or refuse (-> refused) it.
    AWAITING_REVIEW = "awaiting_review"
    REFUSED = "refused"  # staff said no, with a reason the shopper sees: final
    REQUESTED = "requested"  # recorded; being submitted to WeChat Pay (the outbox retries)
    PROCESSING = "processing"  # WeChat Pay accepted it; the money is on its way back
    SUCCEEDED = "succeeded"  # the shopper has the money back: final
    # WeChat Pay refused or it ended abnormally: staff must act (a retry is a new refund). Final,
    # but for an ABNORMAL one the merchant resolves at the merchant platform: WeChat Pay then
    # reports SUCCESS and it succeeds.
    FAILED = "failed"


REFUND_TRANSITIONS: dict[RefundStatus, set[RefundStatus]] = {
    RefundStatus.AWAITING_REVIEW: {RefundStatus.REQUESTED, RefundStatus.REFUSED},
    RefundStatus.REFUSED: set(),
    RefundStatus.REQUESTED: {RefundStatus.PROCESSING, RefundStatus.SUCCEEDED, RefundStatus.FAILED},
    RefundStatus.PROCESSING: {RefundStatus.SUCCEEDED, RefundStatus.FAILED},
    RefundStatus.SUCCEEDED: set(),
    RefundStatus.FAILED: {RefundStatus.SUCCEEDED},  # ABNORMAL, resolved by the merchant
}
