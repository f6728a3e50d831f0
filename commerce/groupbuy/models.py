from tortoise import fields
from tortoise.models import Model

from commerce.groupbuy.states import DealStatus, GroupEventType, GroupStatus, SeatStatus


class GroupDeal(Model):
    """A merchant 拼团 deal: some SKUs of one product at a group price, for groups of group_size
    that must fill within time_limit_minutes of opening. Money in fen."""

    id = fields.IntField(primary_key=True)
    merchant_id = fields.IntField(db_index=True)
    product_id = fields.IntField(db_index=True)
    title = fields.CharField(max_length=60)
    group_size = fields.IntField()  # N, 2-100
    time_limit_minutes = fields.IntField()  # each group's deadline after it opens
    per_shopper_limit = fields.IntField(default=1)  # units one shopper holds in the deal's groups
    # Succeed at the deadline when at least this many paid (None: only a full group succeeds).
    min_paid_at_deadline = fields.IntField(null=True)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    status = fields.CharEnumField(DealStatus, max_length=16, default=DealStatus.ACTIVE)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "group_deal"


class GroupDealSku(Model):
    id = fields.IntField(primary_key=True)
    deal = fields.ForeignKeyField("models.GroupDeal", related_name="skus", on_delete=fields.CASCADE)
    sku_id = fields.IntField(db_index=True)
    group_price = fields.BigIntField()  # fen, below the SKU's list price

    class Meta:
        table = "group_deal_sku"
        unique_together = (("deal_id", "sku_id"),)


class Group(Model):
    """One group of a deal. taken counts held and paid seats, paid the paid ones, both
    change only by conditional updates that keep paid <= taken <= size."""

    id = fields.IntField(primary_key=True)
    deal = fields.ForeignKeyField("models.GroupDeal", related_name="groups", on_delete=fields.RESTRICT)
    opener_id = fields.IntField()
    size = fields.IntField()
    taken = fields.IntField(default=0)
    paid = fields.IntField(default=0)
    status = fields.CharEnumField(GroupStatus, max_length=16, default=GroupStatus.FORMING)
    deadline = fields.DatetimeField()
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "group_buy"  # "group" is an SQL keyword
        indexes = (("status", "deadline"), ("deal_id", "status"))


class GroupSeat(Model):
    """A shopper seat in a group, for one order. live_user_id is the user while the seat
    is held or paid and NULL once it lapses: unique with the group, so one shopper never holds
    two live seats in one group."""

    id = fields.IntField(primary_key=True)
    group = fields.ForeignKeyField("models.Group", related_name="seats", on_delete=fields.RESTRICT)
    user_id = fields.IntField(db_index=True)
    live_user_id = fields.IntField(null=True)
    order_id = fields.IntField(null=True, db_index=True)  # bound right after the order's insert
    quantity = fields.IntField(default=1)
    status = fields.CharEnumField(SeatStatus, max_length=16, default=SeatStatus.HELD)
    held_until = fields.DatetimeField()
    paid_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "group_seat"
        unique_together = (("group_id", "live_user_id"),)
        indexes = (("status", "held_until"),)


class GroupEvent(Model):
    """Append-only history of a group."""

    id = fields.BigIntField(primary_key=True)
    group = fields.ForeignKeyField("models.Group", related_name="events", on_delete=fields.CASCADE)
    type = fields.CharEnumField(GroupEventType, max_length=32)
    from_status = fields.CharField(max_length=20, default="")
    to_status = fields.CharField(max_length=20, default="")
    actor = fields.CharField(max_length=64)
    params: dict = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "group_event"
