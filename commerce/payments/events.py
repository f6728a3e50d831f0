"""The payments context's events (topics as stored since before events were typed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from commerce.events import Event


@dataclass(frozen=True)
class RefundRequested(Event):
    """A refund is to be submitted to WeChat Pay (new, approved by staff, or retried)."""

    topic: ClassVar[str] = "refund.requested"
    refund_id: int


@dataclass(frozen=True)
class RefundSucceeded(Event):
    """WeChat Pay returned a refund's money to the shopper."""

    topic: ClassVar[str] = "refund.succeeded"
    refund_id: int
    order_id: int
    aftersale_id: int | None = None  # the after-sales request it pays back (rows before: None)


@dataclass(frozen=True)
class RefundFailed(Event):
    """A refund failed for good (refused, ABNORMAL or CLOSED): staff must act."""

    topic: ClassVar[str] = "refund.failed"
    refund_id: int
    order_id: int
    aftersale_id: int | None = None


@dataclass(frozen=True)
class PaymentReturned(Event):
    """Money arrived for an order that could not take it and goes back: the shopper is told."""

    topic: ClassVar[str] = "payment.returned"
    order_id: int
    user_id: int
    amount: int  # fen
    reason: str
    paid_twice: bool  # paid already (else: cancelled before the money came)

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        # Rows written before "paid_twice" existed say it only in their reason.
        if "paid_twice" not in payload:
            payload = {**payload, "paid_twice": "重复" in str(payload.get("reason", ""))}
        return super().from_payload(payload)


@dataclass(frozen=True)
class PaymentReceived(Event):
    """A WeChat Pay transaction was recorded paid: the orders it paid, and those it could not
    (their money goes back by automatic refunds)."""

    topic: ClassVar[str] = "payment.received"
    payment_id: int
    paid_order_ids: list[int]
    returned_order_ids: list[int]
    amount: int  # fen: the transaction's total
