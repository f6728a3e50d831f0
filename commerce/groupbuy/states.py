from enum import StrEnum


class DealStatus(StrEnum):
    ACTIVE = "active"  # on sale between starts_at and ends_at
    ENDED = "ended"  # ended by the merchant (or never to run again): final


class GroupStatus(StrEnum):
    FORMING = "forming"  # seats are being taken and paid until its deadline
    SUCCEEDED = "succeeded"  # the N-th member paid (or M paid by the deadline): its orders ship: final
    FAILED = "failed"  # the deadline passed first: every paid member refunded in full: final


ALLOWED_TRANSITIONS: dict[GroupStatus, set[GroupStatus]] = {
    GroupStatus.FORMING: {GroupStatus.SUCCEEDED, GroupStatus.FAILED},
    GroupStatus.SUCCEEDED: set(),
    GroupStatus.FAILED: set(),
}


class SeatStatus(StrEnum):
    HELD = "held"  # taken at checkout, counted in the group's `taken` until held_until
    PAID = "paid"  # paid: counted in `taken` and `paid`
    LAPSED = "lapsed"  # not paid within the hold (or its order cancelled): the seat went back
    REFUNDED = "refunded"  # paid, then the group failed: the order is refunded in full


class GroupEventType(StrEnum):
    OPENED = "opened"  # params: opener user id
    SEAT_HELD = "seat_held"
    SEAT_PAID = "seat_paid"
    SEAT_LAPSED = "seat_lapsed"
    STATUS_CHANGED = "status_changed"  # succeeded, failed
    MOVED_IN = "moved_in"  # a payer placed in this group because theirs was full or failed


GROUPING_LABEL = "待成团"  # how a waiting order reads to shoppers and staff
