"""Leaders' commissions: the rates finance sets (per product, per category), and one row per
community order with a leader, its lines' figures stamped when it was accrued, so a later rate
change never rewrites history. Money in fen; the books hold the money (leader_pending, then the
leader's payee_payable), these rows say what it was computed from."""

from tortoise import fields
from tortoise.models import Model

from commerce.community.commission_states import CommissionEventType, CommissionStatus


class LeaderCommissionRate(Model):
    """A leader commission rate in basis points (1000 = 10%) for a product or a category
    (exactly one of them). A product takes its own, else the rate of its category or nearest
    ancestor with one, else the setting leader_commission_default_bps."""

    id = fields.IntField(primary_key=True)
    product_id = fields.IntField(null=True, unique=True)
    category_id = fields.IntField(null=True, unique=True)
    rate_bps = fields.IntField()  # 0..10000
    updated_by = fields.CharField(max_length=64)  # "staff:3"
    updated_at = fields.DatetimeField()

    class Meta:
        table = "leader_commission_rate"


class LeaderCommission(Model):
    """The commission of a leader on one paid community order (the leader stamped at payment)."""

    id = fields.IntField(primary_key=True)
    order_id = fields.IntField(unique=True)  # accrued once per order
    order_no = fields.CharField(max_length=32)
    leader_id = fields.IntField()
    leader_user_id = fields.IntField()  # the owner of leader_pending and payee_payable
    sale_id = fields.IntField()
    basis = fields.BigIntField()  # the lines' payable: what the commission is a share of
    amount = fields.BigIntField()  # accrued: the lines' commissions summed
    refunded = fields.BigIntField(default=0)  # of basis, refunded so far
    reversed = fields.BigIntField(default=0)  # of amount, reversed so far
    earned = fields.BigIntField(default=0)  # moved to payee_payable (amount − reversed, once)
    status = fields.CharEnumField(CommissionStatus, max_length=16, default=CommissionStatus.PENDING)
    accrued_at = fields.DatetimeField()
    earned_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "leader_commission"
        indexes = (("leader_id", "accrued_at"), ("status", "accrued_at"))


class LeaderCommissionLine(Model):
    """The part of one order line: its rate as it stood at payment, and what refunds reversed
    of it (the cumulative share, so a line refunded in full reverses exactly what it accrued)."""

    id = fields.BigIntField(primary_key=True)
    commission_id = fields.IntField(db_index=True)
    order_line_id = fields.IntField(unique=True)
    product_id = fields.IntField()
    basis = fields.BigIntField()  # the line's payable
    rate_bps = fields.IntField()
    amount = fields.BigIntField()  # round_half_up(basis × rate_bps / 10000)
    refunded = fields.BigIntField(default=0)
    reversed = fields.BigIntField(default=0)

    class Meta:
        table = "leader_commission_line"


class LeaderCommissionRefund(Model):
    """A refund counted against a commission, once (its unique refund id makes a redelivered
    refund.succeeded a no-op, also when it reversed 0 fen and so posted no entry)."""

    id = fields.BigIntField(primary_key=True)
    refund_id = fields.IntField(unique=True)
    commission_id = fields.IntField(db_index=True)
    refunded = fields.BigIntField()  # of the commission's basis (the lines' parts of the refund)
    reversed = fields.BigIntField()  # of its amount, reversed by this refund
    created_at = fields.DatetimeField()

    class Meta:
        table = "leader_commission_refund"


class LeaderCommissionEvent(Model):
    """Append-only timeline of a commission."""

    id = fields.BigIntField(primary_key=True)
    commission_id = fields.IntField(db_index=True)
    type = fields.CharEnumField(CommissionEventType, max_length=24)
    from_status = fields.CharField(max_length=16, default="")
    to_status = fields.CharField(max_length=16, default="")
    actor = fields.CharField(max_length=64)
    params: dict = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "leader_commission_event"
