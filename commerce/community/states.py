"""The community group-buy's lifecycles: leaders, daily community sales and their batches."""

from enum import StrEnum


class LeaderStatus(StrEnum):
    APPLIED = "applied"  # applied in the mini-program; the platform reviews it
    APPROVED = "approved"  # sells to neighbours; their pickup point is open
    REFUSED = "refused"  # the platform said no, with a reason; may apply again
    SUSPENDED = "suspended"  # stopped by the platform (reason kept); point closed, no new bindings


LEADER_TRANSITIONS: dict[LeaderStatus, set[LeaderStatus]] = {
    LeaderStatus.APPLIED: {LeaderStatus.APPROVED, LeaderStatus.REFUSED},
    LeaderStatus.APPROVED: {LeaderStatus.SUSPENDED},
    LeaderStatus.REFUSED: {LeaderStatus.APPLIED},  # applies again
    LeaderStatus.SUSPENDED: {LeaderStatus.APPROVED},  # reinstated
}


class LeaderEventType(StrEnum):
    APPLIED = "applied"
    STATUS_CHANGED = "status_changed"  # params: reason
    EDITED = "edited"  # point details changed (params: the fields)


class BindingSource(StrEnum):
    QR = "qr"  # scanned the leader's official-account QR code (scene)
    LINK = "link"  # opened the leader's share link in the mini-program
    CHOSEN = "chosen"  # picked the leader's point by hand (nearest points, switch)


class SaleStatus(StrEnum):
    OPEN = "open"  # taking orders until its cut-off
    CUT_OFF = "cut_off"  # cut off: its paid orders formed the batches: final
    CANCELLED = "cancelled"  # withdrawn before its cut-off: final


SALE_TRANSITIONS: dict[SaleStatus, set[SaleStatus]] = {
    SaleStatus.OPEN: {SaleStatus.CUT_OFF, SaleStatus.CANCELLED},
    SaleStatus.CUT_OFF: set(),
    SaleStatus.CANCELLED: set(),
}


class BatchStatus(StrEnum):
    FORMED = "formed"  # the day's paid orders of one leader at cut-off: the warehouse picks them
    DISPATCHED = "dispatched"  # left the warehouse for the leader's point
    ARRIVED = "arrived"  # at the point: its shoppers are told to collect with their codes: final


BATCH_TRANSITIONS: dict[BatchStatus, set[BatchStatus]] = {
    BatchStatus.FORMED: {BatchStatus.DISPATCHED},
    BatchStatus.DISPATCHED: {BatchStatus.ARRIVED},
    BatchStatus.ARRIVED: set(),
}
