from tortoise import fields
from tortoise.models import Model

from commerce.orders.states import EventType, OrderStatus


class Checkout(Model):
    """One submission of a checkout: an order per merchant, paid together by one
    WeChat Pay transaction (whose out_trade_no starts with the checkout number). Money in fen."""

    id = fields.IntField(primary_key=True)
    checkout_no = fields.CharField(max_length=32, unique=True)  # the first out_trade_no
    user = fields.ForeignKeyField("models.User", related_name="checkouts", on_delete=fields.RESTRICT)
    # The app's key for this submission: the same key returns the same checkout.
    idempotency_key = fields.CharField(max_length=64)
    payable = fields.BigIntField()  # what its orders cost together
    pay_deadline = fields.DatetimeField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "checkout"
        unique_together = (("user_id", "idempotency_key"),)


class Order(Model):
    """What a shopper bought from one merchant, at what price, delivered where. Money in fen."""

    id = fields.IntField(primary_key=True)
    order_no = fields.CharField(max_length=32, unique=True)
    user = fields.ForeignKeyField("models.User", related_name="orders", on_delete=fields.RESTRICT)
    checkout = fields.ForeignKeyField("models.Checkout", related_name="orders", on_delete=fields.RESTRICT)
    # Who sells it, stamped when it was placed: later changes of a product's owner move nothing.
    merchant_id = fields.IntField(db_index=True)
    status = fields.CharEnumField(OrderStatus, max_length=20, default=OrderStatus.PENDING_PAYMENT)
    idempotency_key = fields.CharField(max_length=64)  # its checkout's (unique there)
    # Money columns are BIGINT: a few dear lines add up to more than an INT holds (¥21,474,836.47).
    items_total = fields.BigIntField()
    shipping_fee = fields.BigIntField()
    discount_total = fields.BigIntField()  # <= 0
    payable = fields.BigIntField()
    # Money of this order refunded or on its way back (counted when a refund is asked, given
    # back when it is refused): a refund is taken by one conditional update that keeps it
    # <= payable, so two refunds at once never return more than the order was paid.
    refunded = fields.BigIntField(default=0, db_default=0)
    # WeChat Pay's fee charged to the merchant, in basis points of payable: stamped when paid
    # (the books charge it; a later change of the setting never rewrites a paid order).
    payment_fee_bps = fields.IntField(null=True)
    # A copy of the address as it was when ordering: later edits do not move a parcel.
    address: dict = fields.JSONField()
    # Copied out of the address for staff searches (a JSON column cannot be searched portably).
    # A database default too: SQLite adds a NOT NULL column to a table with rows only with one.
    receiver_name = fields.CharField(max_length=50, default="", db_default="")
    receiver_phone = fields.CharField(max_length=20, default="", db_default="", db_index=True)
    # The last four digits of the phone.
    receiver_phone_tail = fields.CharField(max_length=4, default="", db_default="", db_index=True)
    pay_deadline = fields.DatetimeField()
    paid_at = fields.DatetimeField(null=True)
    carrier = fields.CharField(max_length=32, default="", db_default="")  # e.g. 顺丰速运
    tracking_no = fields.CharField(max_length=64, default="", db_default="")
    shipped_at = fields.DatetimeField(null=True)
    completed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(db_index=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "shop_order"  # "order" is an SQL keyword
        indexes = (("user_id", "status"), ("status", "pay_deadline"), ("status", "shipped_at"))


class OrderLine(Model):
    id = fields.IntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="lines", on_delete=fields.CASCADE)
    sku_id = fields.IntField()  # a snapshot below keeps the line readable whatever becomes of the SKU
    product_id = fields.IntField()
    merchant_id = fields.IntField()  # the order's merchant, kept on the line for reports
    title = fields.CharField(max_length=120)
    specs: dict = fields.JSONField()
    image = fields.CharField(max_length=500)
    unit_price = fields.BigIntField()
    quantity = fields.IntField()
    line_total = fields.BigIntField()
    discount = fields.BigIntField()
    payable = fields.BigIntField()
    # Units and money of this line refunded or asked back by an open after-sales request: taken
    # by one conditional update that keeps them <= quantity and <= payable, given back when a
    # request is refused or withdrawn.
    refund_quantity = fields.IntField(default=0, db_default=0)
    refund_amount = fields.BigIntField(default=0, db_default=0)
    # The platform's commission on this line, in basis points of its payable: its product's
    # category's rate (or the nearest ancestor's, or the default), stamped when paid.
    commission_rate_bps = fields.IntField(null=True)

    class Meta:
        table = "order_line"


class OrderAdjustment(Model):
    """A price adjustment the quote made for this order (shipping, a discount), with its split
    over the lines, so a partial refund or a commission reads the exact paid share of each line."""

    id = fields.BigIntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="adjustments", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=32)  # "shipping", later "coupon", "points", "flash", …
    source_id = fields.CharField(max_length=64, default="")  # the coupon, campaign, … if any
    label = fields.CharField(max_length=64)  # zh-CN, as the shopper saw it
    amount = fields.BigIntField()  # fen; negative for a discount
    # SKU id (one line per SKU in an order) -> that line's part; {} for shipping (the order's).
    # Always read and written with its order, never searched by line: JSON keeps it one row.
    split: dict = fields.JSONField(default=dict)

    class Meta:
        table = "order_adjustment"


class OrderClaim(Model):
    """Something an order took when committed (units of stock, later a coupon, points, …),
    released at most once, by a conditional update on released_at."""

    id = fields.BigIntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="claims", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=32)  # a key of commerce.orders.claims.REGISTRY
    ref = fields.CharField(max_length=64)  # what was taken: a SKU id, a coupon id, …
    quantity = fields.IntField(default=1)
    # Units given back so far (an after-sales refund of some units before shipment gives back
    # those): raised by a conditional update that keeps it <= quantity; released_at is set
    # when it reaches quantity.
    released_quantity = fields.IntField(default=0, db_default=0)
    data: dict = fields.JSONField(default=dict)
    taken_at = fields.DatetimeField()
    released_at = fields.DatetimeField(null=True)

    class Meta:
        table = "order_claim"


class OrderEvent(Model):
    """Append-only history of an order: who did what, when, from which status to which."""

    id = fields.BigIntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="events", on_delete=fields.CASCADE)
    type = fields.CharEnumField(EventType, max_length=32)
    from_status = fields.CharField(max_length=20, default="")
    to_status = fields.CharField(max_length=20, default="")
    actor = fields.CharField(max_length=64)  # "shopper:12", "system:scheduler", "staff:3"
    params: dict = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "order_event"
