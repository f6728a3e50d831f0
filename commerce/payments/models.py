from tortoise import fields
from tortoise.models import Model

from commerce.payments.states import PaymentStatus, RefundStatus


class Payment(Model):
    """One attempt to pay a checkout (all its orders, one per merchant) through WeChat Pay: its
    out_trade_no and prepay.

    A checkout has one attempt unless a prepay expired unpaid, then a new attempt gets a new
    out_trade_no (the checkout number plus a suffix). Money in fen: `amount` is what the
    checkout costs, the total of the WeChat Pay transaction.
    """

    id = fields.IntField(primary_key=True)
    checkout = fields.ForeignKeyField("models.Checkout", related_name="payments", on_delete=fields.RESTRICT)
    provider = fields.CharField(max_length=16, default="wechatpay")
    out_trade_no = fields.CharField(max_length=32, unique=True)
    amount = fields.BigIntField()
    status = fields.CharEnumField(PaymentStatus, max_length=16, default=PaymentStatus.PENDING)
    prepay_id = fields.CharField(max_length=64, default="")
    prepay_expires_at = fields.DatetimeField(null=True)
    transaction_id = fields.CharField(max_length=32, null=True)  # WeChat Pay's, once paid
    payer_openid = fields.CharField(max_length=64, default="")
    paid_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "payment"
        # A transaction pays once, however often and from however many servers it is notified.
        unique_together = (("provider", "transaction_id"),)
        indexes = (("status", "updated_at"),)


class Refund(Model):
    """Money going back to the shopper: some or all of what one order of a paid attempt took.
    Money in fen."""

    id = fields.IntField(primary_key=True)
    order_id = fields.IntField(db_index=True)  # the order whose money it returns
    payment = fields.ForeignKeyField("models.Payment", related_name="refunds", on_delete=fields.RESTRICT)
    out_refund_no = fields.CharField(max_length=64, unique=True)
    amount = fields.BigIntField()  # at most what the order still holds (Order.refunded)
    # The order's whole refund (asked by the shopper, or a return): its success ends the order
    # (refunded). False for a part refunded on its own, which leaves the order's status alone.
    whole_order = fields.BooleanField(default=True, db_default=True)
    reason = fields.CharField(max_length=80)
    # True when we refund on our own: paid after the order was cancelled, or paid twice.
    automatic = fields.BooleanField(default=False)
    status = fields.CharEnumField(RefundStatus, max_length=16, default=RefundStatus.REQUESTED)
    refund_id = fields.CharField(max_length=64, default="")  # WeChat Pay's
    requested_by = fields.CharField(max_length=64)  # "shopper:12", "system:wechatpay", "staff:3"
    failure = fields.CharField(max_length=200, default="")
    # WeChat Pay's refusal code (NOT_ENOUGH, ...) or the refund's end (ABNORMAL, CLOSED).
    failure_code = fields.CharField(max_length=32, default="", db_default="")
    # After-sales review: who approved or refused it, when, and why not (the shopper sees it).
    reviewed_by = fields.CharField(max_length=64, default="", db_default="")
    reviewed_at = fields.DatetimeField(null=True)
    refusal = fields.CharField(max_length=200, default="", db_default="")
    # The after-sales request it pays back (commerce.aftersales); None for an automatic refund.
    aftersale_id = fields.IntField(null=True, db_index=True)
    retried_as_id = fields.IntField(null=True)  # the refund that submitted this failed one again
    succeeded_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "refund"
        indexes = (("status", "updated_at"),)
