"""A leader's commission on one community order: its lifecycle and its timeline's kinds."""

from enum import StrEnum


class CommissionStatus(StrEnum):
    # Accrued when the order was paid (leader_pending): not withdrawable; refunds reverse it in
    # proportion (reversed > 0 while still pending).
    PENDING = "pending"
    # Picked up and the after-sales window passed with no request open: what was left of it is
    # in the leader's payee_payable, withdrawable through payouts: final.
    EARNED = "earned"
    # Everything it was accrued on was refunded: nothing left to earn: final.
    REVERSED = "reversed"


COMMISSION_TRANSITIONS: dict[CommissionStatus, set[CommissionStatus]] = {
    CommissionStatus.PENDING: {CommissionStatus.EARNED, CommissionStatus.REVERSED},
    CommissionStatus.EARNED: set(),
    CommissionStatus.REVERSED: set(),
}


class CommissionEventType(StrEnum):
    ACCRUED = "accrued"  # params: amount, basis
    REVERSED_PART = "reversed_part"  # a refund reversed part of it; params: refund_id, amount
    STATUS_CHANGED = "status_changed"  # earned (params: amount) or wholly reversed
