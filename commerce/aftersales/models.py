from tortoise import fields
from tortoise.models import Model

from commerce.aftersales.states import AfterSaleEventType, AfterSaleKind, AfterSaleStatus


class AfterSale(Model):
    """A request of a shopper for money back on some lines (and quantities) of one order.
    Money in fen. Several per order, until everything paid is refunded."""

    id = fields.IntField(primary_key=True)
    aftersale_no = fields.CharField(max_length=32, unique=True)
    order_id = fields.IntField(db_index=True)
    user_id = fields.IntField(db_index=True)
    merchant_id = fields.IntField()  # the order's, for scoping staff
    kind = fields.CharEnumField(AfterSaleKind, max_length=16)
    status = fields.CharEnumField(AfterSaleStatus, max_length=16)
    reason = fields.CharField(max_length=80)  # one of the listed reasons, zh-CN
    description = fields.CharField(max_length=500, default="")
    photos: list = fields.JSONField(default=list)  # media URLs (commerce.media)
    amount = fields.BigIntField()  # what goes back: the lines' amounts plus shipping_amount
    shipping_amount = fields.BigIntField(default=0)  # the order's shipping fee returned, if any
    # Whether the goods had left the merchant when asked: decides review and restocking.
    before_shipment = fields.BooleanField()
    return_carrier = fields.CharField(max_length=32, default="")
    return_tracking_no = fields.CharField(max_length=64, default="")
    restocked = fields.BooleanField(null=True)  # set when the merchant confirms the return's receipt
    refund_id = fields.IntField(null=True)  # commerce.payments' Refund, once asked
    review_due_at = fields.DatetimeField(null=True)  # approved by itself then, if still requested
    reviewed_by = fields.CharField(max_length=64, default="")  # "staff:3", "system:aftersales"
    reviewed_at = fields.DatetimeField(null=True)
    refusal = fields.CharField(max_length=200, default="")  # why not, shown to the shopper
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)  # refunded, refused or cancelled

    class Meta:
        table = "aftersale"
        indexes = (("status", "review_due_at"), ("merchant_id", "status"))


class AfterSaleLine(Model):
    """What of one order line the request covers: a quantity and the money for it (at most the
    remaining paid share of the line)."""

    id = fields.IntField(primary_key=True)
    aftersale = fields.ForeignKeyField("models.AfterSale", related_name="lines", on_delete=fields.CASCADE)
    order_line_id = fields.IntField(db_index=True)
    sku_id = fields.IntField()
    title = fields.CharField(max_length=120)
    quantity = fields.IntField()
    amount = fields.BigIntField()

    class Meta:
        table = "aftersale_line"


class AfterSaleEvent(Model):
    """Append-only timeline of a request."""

    id = fields.BigIntField(primary_key=True)
    aftersale = fields.ForeignKeyField("models.AfterSale", related_name="events", on_delete=fields.CASCADE)
    type = fields.CharEnumField(AfterSaleEventType, max_length=32)
    from_status = fields.CharField(max_length=16, default="")
    to_status = fields.CharField(max_length=16, default="")
    actor = fields.CharField(max_length=64)
    params: dict = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "aftersale_event"
