"""KOL referral: KOLs and their tiers, every touch, the customers they brought, each order's
attribution, the daily roll-ups the funnels read, and fraud flags. Commissions are in
commission_models. Money in fen; times in UTC."""

from tortoise import fields
from tortoise.models import Model

from commerce.referrals.states import (
    AttributionRule,
    AttributionStatus,
    FlagStatus,
    KolEventType,
    KolStatus,
    SignalKind,
    TouchChannel,
)


class KolTier(Model):
    """A tier KOLs are approved into: its default rate and, optionally, its rate for the second
    level (the KOL who recruited the KOL of the order), when two levels are on."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32, unique=True)
    rate_bps = fields.IntField()  # default for categories without a rate of this tier
    second_level_bps = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "kol_tier"


class KolTierRate(Model):
    """The rate of a tier for one category (and its descendants without one of their own)."""

    id = fields.IntField(primary_key=True)
    tier_id = fields.IntField()
    category_id = fields.IntField()
    rate_bps = fields.IntField()
    updated_by = fields.CharField(max_length=64)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "kol_tier_rate"
        unique_together = (("tier_id", "category_id"),)


class Kol(Model):
    """A KOL: one per user. `code` is their referral code (links, QR scenes, mini-program codes),
    `parent_kol_id` the KOL who brought them (their second level, when two levels are on)."""

    id = fields.IntField(primary_key=True)
    user_id = fields.IntField(unique=True)
    code = fields.CharField(max_length=16, unique=True)
    name = fields.CharField(max_length=32)
    phone = fields.CharField(max_length=20)
    intro = fields.CharField(max_length=200, default="")  # channels and audience, as applied
    tier_id = fields.IntField(null=True)
    parent_kol_id = fields.IntField(null=True)
    status = fields.CharEnumField(KolStatus, max_length=16)
    reason = fields.CharField(max_length=200, default="")  # of a refusal or suspension
    applied_at = fields.DatetimeField()
    reviewed_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "kol"
        indexes = (("status", "applied_at"),)


class KolEvent(Model):
    """Append-only timeline of a KOL."""

    id = fields.BigIntField(primary_key=True)
    kol_id = fields.IntField(db_index=True)
    type = fields.CharEnumField(KolEventType, max_length=24)
    from_status = fields.CharField(max_length=16, default="")
    to_status = fields.CharField(max_length=16, default="")
    actor = fields.CharField(max_length=64)
    params: dict = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "kol_event"


class KolQrCode(Model):
    """The permanent official-account QR code of a KOL (scene kol_CODE), made at WeChat once."""

    id = fields.IntField(primary_key=True)
    kol_id = fields.IntField(unique=True)
    scene = fields.CharField(max_length=64)
    ticket = fields.CharField(max_length=255)
    url = fields.CharField(max_length=255)
    image_url = fields.CharField(max_length=512)
    created_at = fields.DatetimeField()

    class Meta:
        table = "kol_qrcode"


class ReferralTouch(Model):
    """One touch: written in batches from a Redis buffer (many per second on a viral day).
    `user_id` is the signed-in shopper, when known, `visitor` an anonymous client id, `ip` and
    `device` feed the fraud signals."""

    id = fields.BigIntField(primary_key=True)
    kol_id = fields.IntField()
    channel = fields.CharEnumField(TouchChannel, max_length=12)
    user_id = fields.IntField(null=True)
    visitor = fields.CharField(max_length=64, default="")
    ip = fields.CharField(max_length=45, default="")
    device = fields.CharField(max_length=64, default="")
    path = fields.CharField(max_length=128, default="")  # the page shared (a product, a group)
    at = fields.DatetimeField()

    class Meta:
        table = "referral_touch"
        indexes = (("kol_id", "at"), ("user_id", "at"), ("ip", "at"))


class ReferralCustomer(Model):
    """What the touches say about one customer: the KOL who first brought them (protected until
    `protected_until`), and their last touch (for the last-touch window). Kept current as the
    touches are written, so attribution at checkout reads one row."""

    id = fields.IntField(primary_key=True)
    user_id = fields.IntField(unique=True)
    first_kol_id = fields.IntField()
    first_channel = fields.CharEnumField(TouchChannel, max_length=12)
    first_at = fields.DatetimeField()
    protected_until = fields.DatetimeField()
    last_kol_id = fields.IntField()
    last_channel = fields.CharEnumField(TouchChannel, max_length=12)
    last_at = fields.DatetimeField()

    class Meta:
        table = "referral_customer"
        indexes = (("first_kol_id", "first_at"),)


class PendingReferral(Model):
    """A follower not yet a shopper who followed or scanned through the QR code of a KOL: the
    touch is given to their user at sign-in (by unionid)."""

    id = fields.IntField(primary_key=True)
    unionid = fields.CharField(max_length=64, unique=True)
    kol_id = fields.IntField()
    channel = fields.CharEnumField(TouchChannel, max_length=12)
    at = fields.DatetimeField()

    class Meta:
        table = "referral_pending"


class ReferralAttribution(Model):
    """The KOL an order is attributed to, stamped at placement (in the transaction of the checkout)
    and frozen at payment: later touches never change it. `parent_kol_id` is the second level
    when two levels were on at placement."""

    id = fields.IntField(primary_key=True)
    order_id = fields.IntField(unique=True)
    user_id = fields.IntField()
    kol_id = fields.IntField()
    parent_kol_id = fields.IntField(null=True)
    rule = fields.CharEnumField(AttributionRule, max_length=12)
    channel = fields.CharEnumField(TouchChannel, max_length=12)  # of the touch that won
    touched_at = fields.DatetimeField()
    status = fields.CharEnumField(AttributionStatus, max_length=8)
    placed_at = fields.DatetimeField()
    frozen_at = fields.DatetimeField(null=True)

    class Meta:
        table = "referral_attribution"
        indexes = (("kol_id", "placed_at"), ("parent_kol_id", "placed_at"))


class ReferralAttributionLine(Model):
    """The attribution stamped on each line of the order at placement (what the line earns for
    is read from here, and its paid share at payment)."""

    id = fields.BigIntField(primary_key=True)
    attribution_id = fields.IntField(db_index=True)
    order_line_id = fields.IntField(unique=True)
    kol_id = fields.IntField()
    parent_kol_id = fields.IntField(null=True)

    class Meta:
        table = "referral_attribution_line"


class ReferralDaily(Model):
    """The roll-up of the funnels: one row per KOL, Asia/Shanghai day and channel, bumped by one
    atomic upsert as things happen, so the funnel of a KOL over a year is a few hundred rows."""

    id = fields.BigIntField(primary_key=True)
    kol_id = fields.IntField()
    day = fields.DateField()
    channel = fields.CharEnumField(TouchChannel, max_length=12)
    touches = fields.BigIntField(default=0)
    follows = fields.IntField(default=0)  # new followers through the KOL's QR code
    customers = fields.IntField(default=0)  # signed-in shoppers first brought by the KOL
    orders = fields.IntField(default=0)  # orders attributed and paid
    paid_gmv = fields.BigIntField(default=0)  # what those orders paid (fen)
    commission_pending = fields.BigIntField(default=0)  # accrued (fen)
    commission_earned = fields.BigIntField(default=0)
    commission_reversed = fields.BigIntField(default=0)  # by refunds and voiding

    class Meta:
        table = "referral_daily"
        unique_together = (("kol_id", "day", "channel"),)
        indexes = (("day", "kol_id"),)  # the platform's funnels: a range of days, by KOL


class KolSignal(Model):
    """A fraud signal measured for a KOL by the signals job (the latest per kind), with its
    evidence: the accounts, addresses, orders or addresses it saw."""

    id = fields.IntField(primary_key=True)
    kol_id = fields.IntField()
    kind = fields.CharEnumField(SignalKind, max_length=24)
    value = fields.IntField()  # a count, or a rate in basis points
    threshold = fields.IntField()
    tripped = fields.BooleanField()
    evidence: dict = fields.JSONField(default=dict)
    measured_at = fields.DatetimeField()

    class Meta:
        table = "kol_signal"
        unique_together = (("kol_id", "kind"),)


class KolFlag(Model):
    """A KOL whose signals crossed the threshold: their pending earnings are held until the
    platform releases or voids them (one open flag per KOL at a time)."""

    id = fields.IntField(primary_key=True)
    kol_id = fields.IntField(db_index=True)
    open_key = fields.IntField(null=True, unique=True)  # the KOL id while open, else NULL
    status = fields.CharEnumField(FlagStatus, max_length=12)
    kinds: list = fields.JSONField(default=list)  # the signals that tripped
    evidence: dict = fields.JSONField(default=dict)
    held = fields.BigIntField(default=0)  # fen held when flagged
    decided_by = fields.CharField(max_length=64, default="")
    note = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "kol_flag"
