from enum import StrEnum


class PayoutStatus(StrEnum):
    # Asked by the payee; the amount is held (PAYOUT_REQUESTED). Waits for a person's approval
    # (amounts up to payout_auto_approve_max_fen skip it).
    REQUESTED = "requested"
    # Approved: being submitted to WeChat Pay (the outbox retries with the same out_bill_no
    # until WeChat Pay answers), or accepted there and not yet waiting for the payee.
    APPROVED = "approved"
    # WeChat Pay's WAIT_USER_CONFIRM: the payee confirms in the mini-program (package_info)
    # before confirm_deadline, or the transfer is cancelled and the money returns.
    WAITING_CONFIRMATION = "waiting_confirmation"
    SUCCEEDED = "succeeded"  # in the payee's WeChat balance (PAYOUT_PAID): final
    REFUSED = "refused"  # staff said no, with a reason (PAYOUT_RETURNED): final
    FAILED = "failed"  # WeChat Pay's FAIL or a final refusal (PAYOUT_RETURNED): final
    CANCELLED = "cancelled"  # not confirmed in time, or cancelled (PAYOUT_RETURNED): final


ALLOWED_TRANSITIONS: dict[PayoutStatus, set[PayoutStatus]] = {
    PayoutStatus.REQUESTED: {PayoutStatus.APPROVED, PayoutStatus.REFUSED},
    PayoutStatus.APPROVED: {
        PayoutStatus.WAITING_CONFIRMATION,
        PayoutStatus.SUCCEEDED,  # a scene that needs no confirmation
        PayoutStatus.FAILED,
        PayoutStatus.CANCELLED,
    },
    PayoutStatus.WAITING_CONFIRMATION: {
        PayoutStatus.SUCCEEDED,
        PayoutStatus.FAILED,
        PayoutStatus.CANCELLED,
    },
    PayoutStatus.SUCCEEDED: set(),
    PayoutStatus.REFUSED: set(),
    PayoutStatus.FAILED: set(),
    PayoutStatus.CANCELLED: set(),
}

# Money held and not yet paid or returned ("in transit" as the payee reads it).
OPEN = (PayoutStatus.REQUESTED, PayoutStatus.APPROVED, PayoutStatus.WAITING_CONFIRMATION)
# At WeChat Pay (or on the way there): its answer decides.
AT_WECHAT = (PayoutStatus.APPROVED, PayoutStatus.WAITING_CONFIRMATION)
# Ended with the money back in the payee's balance.
RETURNED = (PayoutStatus.REFUSED, PayoutStatus.FAILED, PayoutStatus.CANCELLED)


class PayoutEventType(StrEnum):
    REQUESTED = "requested"  # params: amount, real_name (masked) if given
    STATUS_CHANGED = "status_changed"  # approved, refused, waiting, succeeded, failed, cancelled
    SUBMITTED = "submitted"  # WeChat Pay's answer to a submission: state, transfer_bill_no
    SUBMIT_FAILED = "submit_failed"  # WeChat Pay unreachable or busy: retried, same out_bill_no
    CANCEL_ASKED = "cancel_asked"  # not confirmed in time: cancellation asked at WeChat Pay
