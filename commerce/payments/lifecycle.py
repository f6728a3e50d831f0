"""The refund's lifecycle (commerce.lifecycle): its status moves by one conditional update from
REFUND_TRANSITIONS. Its event rows are the order's (refund approved, failed, …), written by the
callers, who know which one to write."""

from __future__ import annotations

from commerce.lifecycle import Lifecycle
from commerce.payments.errors import RefundError
from commerce.payments.models import Refund
from commerce.payments.states import REFUND_TRANSITIONS, RefundStatus

# Zero rows: reviewed, settled or failed by someone else first.
REFUND: Lifecycle[RefundStatus] = Lifecycle(
    model=Refund, transitions=REFUND_TRANSITIONS, refusal=RefundError.ALREADY_REVIEWED.error
)
