"""KOLs' commissions: one row per paid attributed order and level (1: the KOL the order is
attributed to; 2: the KOL who brought them, when two levels are on), with each line's rate
stamped at payment so a later rate change never rewrites history. The books hold the money
(kol_pending, then the KOL's payee_payable); these rows say what it was computed from."""

from tortoise import fields
from tortoise.models import Model

from commerce.referrals.states import KolCommissionEventType, KolCommissionStatus


class KolCommission(Model):
    id = fields.IntField(primary_key=True)
    order_id = fields.IntField()
    order_no = fields.CharField(max_length=32)
    level = fields.SmallIntField()  # 1 or 2
    kol_id = fields.IntField()
    kol_user_id = fields.IntField()  # the owner of kol_pending and payee_payable
    tier_id = fields.IntField()
    channel = fields.CharField(max_length=12)  # of the attribution, for the funnel
    basis = fields.BigIntField()  # the lines' paid amount after discounts
    amount = fields.BigIntField()  # accrued: the lines' commissions summed
    refunded = fields.BigIntField(default=0)  # of basis, refunded so far
    reversed = fields.BigIntField(default=0)  # of amount, reversed so far (refunds, voiding)
    earned = fields.BigIntField(default=0)  # moved to payee_payable (amount − reversed, once)
    status = fields.CharEnumField(KolCommissionStatus, max_length=12, default=KolCommissionStatus.PENDING)
    accrued_at = fields.DatetimeField()
    earned_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "kol_commission"
        unique_together = (("order_id", "level"),)
        indexes = (("kol_id", "accrued_at"), ("status", "accrued_at"))


class KolCommissionLine(Model):
    """The part of one order line: its rate at payment, and what refunds reversed of it (the
    cumulative share, so a line refunded in full reverses exactly what it accrued)."""

    id = fields.BigIntField(primary_key=True)
    commission_id = fields.IntField(db_index=True)
    order_line_id = fields.IntField()
    category_id = fields.IntField(null=True)
    basis = fields.BigIntField()  # the line's paid amount
    rate_bps = fields.IntField()
    amount = fields.BigIntField()  # round_half_up(basis × rate_bps / 10000)
    refunded = fields.BigIntField(default=0)
    reversed = fields.BigIntField(default=0)

    class Meta:
        table = "kol_commission_line"
        unique_together = (("commission_id", "order_line_id"),)


class KolCommissionRefund(Model):
    """A refund counted against a commission, once (a redelivered refund.succeeded is a no-op)."""

    id = fields.BigIntField(primary_key=True)
    refund_id = fields.IntField()
    commission_id = fields.IntField(db_index=True)
    refunded = fields.BigIntField()
    reversed = fields.BigIntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "kol_commission_refund"
        unique_together = (("refund_id", "commission_id"),)


class KolCommissionEvent(Model):
    """Append-only timeline of a commission."""

    id = fields.BigIntField(primary_key=True)
    commission_id = fields.IntField(db_index=True)
    type = fields.CharEnumField(KolCommissionEventType, max_length=24)
    from_status = fields.CharField(max_length=16, default="")
    to_status = fields.CharField(max_length=16, default="")
    actor = fields.CharField(max_length=64)
    params: dict = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "kol_commission_event"
