"""KOL referral (推广员 / 达人): the lifecycles of a KOL, an order's attribution, a commission and
a fraud flag, and the kinds of touches and signals."""

from enum import StrEnum


class KolStatus(StrEnum):
    APPLIED = "applied"  # applied in the mini-program (or invited); the platform reviews it
    APPROVED = "approved"  # in a tier; touches through their code count and earn
    REFUSED = "refused"  # the platform said no, with a reason; may apply again
    SUSPENDED = "suspended"  # stopped (reason kept): no new touches or attributions count


KOL_TRANSITIONS: dict[KolStatus, set[KolStatus]] = {
    KolStatus.APPLIED: {KolStatus.APPROVED, KolStatus.REFUSED},
    KolStatus.APPROVED: {KolStatus.SUSPENDED},
    KolStatus.REFUSED: {KolStatus.APPLIED},
    KolStatus.SUSPENDED: {KolStatus.APPROVED},
}


class KolEventType(StrEnum):
    APPLIED = "applied"
    INVITED = "invited"  # the platform invited the user: approved at once into a tier
    STATUS_CHANGED = "status_changed"  # params: reason, tier_id
    TIER_CHANGED = "tier_changed"  # params: from, to
    FLAGGED = "flagged"  # the fraud signals tripped: params: flag_id, kinds, held
    FLAG_RELEASED = "flag_released"  # the review found no fraud: params: flag_id, released, note
    FLAG_VOIDED = "flag_voided"  # the review voided the held earnings: params: flag_id, voided, note


class TouchChannel(StrEnum):
    """Where a touch came from; the funnel is split by these."""

    LINK = "link"  # opened a share link (?ref=CODE) in the mini-program
    QR_SCAN = "qr_scan"  # scanned the KOL's official-account QR code as a follower already
    QR_FOLLOW = "qr_follow"  # followed the official account through the KOL's QR code
    MP_CODE = "mp_code"  # opened the mini-program through the KOL's mini-program code
    SHARE = "share"  # a shopper passed the KOL's link on to another shopper


class AttributionRule(StrEnum):
    """Which rule gave an order to its KOL (shown to KOLs in words)."""

    PROTECTED = "protected"  # the KOL who first brought the customer, within the protection period
    LAST_TOUCH = "last_touch"  # the customer's last touch within the attribution window


class AttributionStatus(StrEnum):
    PLACED = "placed"  # stamped when the order was placed; not paid yet
    FROZEN = "frozen"  # the order was paid: the attribution never changes again: final
    VOID = "void"  # the order was cancelled unpaid: final


class KolCommissionStatus(StrEnum):
    # Accrued when the order was paid (kol_pending); refunds reverse it in proportion.
    PENDING = "pending"
    # The KOL was flagged by the fraud signals: not earned until the platform releases it
    # (back to pending) or voids it (reversed to the platform).
    HELD = "held"
    # Completed and the after-sales window passed: what was left is the KOL's payee_payable.
    EARNED = "earned"
    REVERSED = "reversed"  # everything it was accrued on was refunded: final
    VOIDED = "voided"  # voided on review as fraud: what was left went back: final


KOL_COMMISSION_TRANSITIONS: dict[KolCommissionStatus, set[KolCommissionStatus]] = {
    KolCommissionStatus.PENDING: {
        KolCommissionStatus.HELD,
        KolCommissionStatus.EARNED,
        KolCommissionStatus.REVERSED,
    },
    KolCommissionStatus.HELD: {
        KolCommissionStatus.PENDING,
        KolCommissionStatus.VOIDED,
        KolCommissionStatus.REVERSED,
    },
    KolCommissionStatus.EARNED: set(),
    KolCommissionStatus.REVERSED: set(),
    KolCommissionStatus.VOIDED: set(),
}


class KolCommissionEventType(StrEnum):
    ACCRUED = "accrued"  # params: amount, basis, level
    REVERSED_PART = "reversed_part"  # params: refund_id, refunded, amount
    STATUS_CHANGED = "status_changed"  # held, released, earned, voided, wholly reversed


class SignalKind(StrEnum):
    """A fraud signal about a KOL's referred customers (evidence kept with each)."""

    SELF_REFERRAL = "self_referral"  # the KOL tried to earn on their own orders
    SHARED_ADDRESS = "shared_address"  # many referred accounts deliver to one address
    SHARED_PHONE_PREFIX = "shared_phone_prefix"  # many referred accounts' phones share a prefix
    SHARED_DEVICE = "shared_device"  # many referred accounts touched from one device
    HIGH_REFUND_RATE = "high_refund_rate"  # the referred orders are refunded at a high rate
    TOUCH_BURST = "touch_burst"  # a burst of touches from one network address


class FlagStatus(StrEnum):
    OPEN = "open"  # the KOL's pending earnings are held until the platform decides
    RELEASED = "released"  # reviewed, not fraud: the held commissions earn as usual: final
    VOIDED = "voided"  # reviewed as fraud: the held commissions were voided: final


FLAG_TRANSITIONS: dict[FlagStatus, set[FlagStatus]] = {
    FlagStatus.OPEN: {FlagStatus.RELEASED, FlagStatus.VOIDED},
    FlagStatus.RELEASED: set(),
    FlagStatus.VOIDED: set(),
}
