from tortoise import fields
from tortoise.models import Model

from commerce.payouts.states import PayoutEventType, PayoutStatus


class Payout(Model):
    """A withdrawal of a payee to their WeChat balance, through the merchant transfer of WeChat
    Pay. Money in fen. The out_bill_no is ours at WeChat Pay, the same on every retry."""

    id = fields.IntField(primary_key=True)
    out_bill_no = fields.CharField(max_length=32, unique=True)
    payee_user_id = fields.IntField()
    openid = fields.CharField(max_length=64)  # the payee's, for the mini-program's appid
    amount = fields.BigIntField()
    status = fields.CharEnumField(PayoutStatus, max_length=24)
    request_key = fields.CharField(max_length=64)  # the client's Idempotency-Key
    real_name_required = fields.BooleanField(default=False)
    real_name_masked = fields.CharField(max_length=40, default="")  # "张*", shown to staff
    # The real name encrypted with WeChat Pay's public key once, sent as is on every retry
    # (we cannot read it back: only WeChat Pay can).
    real_name_cipher = fields.TextField(null=True)
    transfer_bill_no = fields.CharField(max_length=64, default="")
    wechat_state = fields.CharField(max_length=24, default="")  # last known at WeChat Pay
    package_info = fields.TextField(null=True)  # for wx.requestMerchantTransfer while waiting
    approved_by = fields.CharField(max_length=64, default="")  # "staff:3", "system:payouts"
    approved_at = fields.DatetimeField(null=True)
    submitted_at = fields.DatetimeField(null=True)  # WeChat Pay first accepted it
    confirm_deadline = fields.DatetimeField(null=True)  # cancelled if not confirmed by then
    refusal = fields.CharField(max_length=200, default="")  # staff's reason, shown to the payee
    failure_reason = fields.CharField(max_length=200, default="")  # WeChat Pay's, or ours
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "payout"
        unique_together = (("payee_user_id", "request_key"),)
        indexes = (("payee_user_id", "created_at"), ("status", "updated_at"))


class PayoutEvent(Model):
    """Append-only timeline of a payout."""

    id = fields.BigIntField(primary_key=True)
    payout = fields.ForeignKeyField("models.Payout", related_name="events", on_delete=fields.CASCADE)
    type = fields.CharEnumField(PayoutEventType, max_length=24)
    from_status = fields.CharField(max_length=24, default="")
    to_status = fields.CharField(max_length=24, default="")
    actor = fields.CharField(max_length=64)
    params: dict = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "payout_event"
