from tortoise import fields
from tortoise.models import Model

from commerce.fulfilment.states import FulfilmentKind, FulfilmentStatus


class PickupPoint(Model):
    """A place where shoppers collect orders: of a merchant, or of the platform (no merchant)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64)
    address = fields.CharField(max_length=200)
    # Free text, e.g. "每天 9:00-21:00".
    opening_hours = fields.CharField(max_length=64, default="", db_default="")
    contact_phone = fields.CharField(max_length=20, default="", db_default="")
    merchant_id = fields.IntField(null=True, db_index=True)  # None: the platform's point
    # WGS-84 degrees (as the mini-program's wx.getLocation gives them), for the nearest points;
    # None for a point placed before coordinates were kept.
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    active = fields.BooleanField(default=True)
    # A community leader's point: it collects the orders of community sales only (other
    # checkouts are not offered it), and opens and closes with its leader's review.
    community = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField()

    class Meta:
        table = "pickup_point"
        # The nearest points: a bounding box on latitude, then longitude (community.points).
        indexes = (("latitude", "longitude"),)


class Fulfilment(Model):
    """How one order reaches its shopper (one per order), with a lifecycle of its own."""

    id = fields.IntField(primary_key=True)
    order_id = fields.IntField(unique=True)
    kind = fields.CharEnumField(FulfilmentKind, max_length=16)
    status = fields.CharEnumField(FulfilmentStatus, max_length=16)
    carrier = fields.CharField(max_length=32, default="")  # express
    tracking_no = fields.CharField(max_length=64, default="")  # express
    pickup_point = fields.ForeignKeyField(
        "models.PickupPoint", related_name="fulfilments", null=True, on_delete=fields.RESTRICT
    )
    pickup_code = fields.CharField(max_length=8, default="")  # pickup: what the shopper shows
    # The code while the pickup is open, NULL once picked up: unique per point among open
    # pickups (NULLs never clash), so a used code may be drawn again later.
    open_code = fields.CharField(max_length=8, null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)  # delivered, picked up or fulfilled

    class Meta:
        table = "fulfilment"
        unique_together = (("pickup_point_id", "open_code"),)
