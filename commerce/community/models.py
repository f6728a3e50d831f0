"""Community group-buy (社区团购): leaders (团长) and their pickup points, shoppers bound to a
leader, daily community sales with a cut-off, the orders placed in them and the batches they
form per leader at cut-off. Money in fen."""

from tortoise import fields
from tortoise.models import Model

from commerce.community.states import BatchStatus, BindingSource, LeaderEventType, LeaderStatus, SaleStatus


class Leader(Model):
    """A shopper who sells to their neighbours and hands the goods over at their pickup point."""

    id = fields.IntField(primary_key=True)
    user_id = fields.IntField(unique=True)  # one leader per shopper
    name = fields.CharField(max_length=32)
    phone = fields.CharField(max_length=20)
    status = fields.CharEnumField(LeaderStatus, max_length=16)
    reason = fields.CharField(max_length=200, default="")  # of a refusal or a suspension
    # The point created with the application: inactive until the leader is approved.
    pickup_point_id = fields.IntField(unique=True)
    photo = fields.CharField(max_length=500, default="")  # the point's photo (media path)
    # Carried by the share link (?leader=CODE) and the QR code's scene ("leader_CODE").
    share_code = fields.CharField(max_length=16, unique=True)
    applied_at = fields.DatetimeField()
    reviewed_at = fields.DatetimeField(null=True)
    reviewed_by = fields.CharField(max_length=64, default="")  # "staff:3"
    updated_at = fields.DatetimeField()

    class Meta:
        table = "community_leader"
        indexes = (("status", "applied_at"),)


class LeaderEvent(Model):
    """Append-only history of a leader: applied, approved, refused, suspended, edited."""

    id = fields.BigIntField(primary_key=True)
    leader_id = fields.IntField(db_index=True)
    type = fields.CharEnumField(LeaderEventType, max_length=24)
    from_status = fields.CharField(max_length=16, default="")
    to_status = fields.CharField(max_length=16, default="")
    actor = fields.CharField(max_length=64)
    params: dict = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "community_leader_event"


class LeaderBinding(Model):
    """The leader a shopper is bound to now (one row per shopper, rewritten on a switch
    that appends a LeaderBindingChange). The binding in force at payment is stamped on the order."""

    id = fields.IntField(primary_key=True)
    user_id = fields.IntField(unique=True)
    leader_id = fields.IntField(db_index=True)
    source = fields.CharEnumField(BindingSource, max_length=16)
    bound_at = fields.DatetimeField()

    class Meta:
        table = "community_binding"


class LeaderBindingChange(Model):
    """Append-only: every binding a shopper took, and how."""

    id = fields.BigIntField(primary_key=True)
    user_id = fields.IntField(db_index=True)
    leader_id = fields.IntField()
    previous_leader_id = fields.IntField(null=True)
    source = fields.CharEnumField(BindingSource, max_length=16)
    created_at = fields.DatetimeField()

    class Meta:
        table = "community_binding_change"


class CommunitySale(Model):
    """One day of community sale: products at a community price, ordered until its cut-off."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=64)
    merchant_id = fields.IntField(null=True, db_index=True)  # None: the platform's sale
    sale_date = fields.DateField()  # its day, Asia/Shanghai
    starts_at = fields.DatetimeField()
    cutoff_at = fields.DatetimeField()  # UTC; e.g. 23:00 Asia/Shanghai of sale_date
    status = fields.CharEnumField(SaleStatus, max_length=16, default=SaleStatus.OPEN)
    created_by = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    cut_off_at = fields.DatetimeField(null=True)  # when the batches were formed

    class Meta:
        table = "community_sale"
        indexes = (("status", "cutoff_at"),)


class CommunitySaleItem(Model):
    """A SKU in a community sale at its community price."""

    id = fields.IntField(primary_key=True)
    sale_id = fields.IntField(db_index=True)
    sku_id = fields.IntField()
    product_id = fields.IntField()
    merchant_id = fields.IntField()  # the SKU's merchant when published
    community_price = fields.BigIntField()  # fen

    class Meta:
        table = "community_sale_item"
        unique_together = (("sale_id", "sku_id"),)


class CommunityOrder(Model):
    """An order placed in a community sale, collected at a point (no shipping fee). The leader
    whose binding was in force at payment is stamped when it is paid (and earns on it)."""

    id = fields.IntField(primary_key=True)
    order_id = fields.IntField(unique=True)
    sale_id = fields.IntField(db_index=True)
    user_id = fields.IntField()
    pickup_point_id = fields.IntField()
    leader_id = fields.IntField(null=True, db_index=True)  # stamped at payment
    batch_id = fields.IntField(null=True, db_index=True)  # set at cut-off
    paid_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "community_order"
        indexes = (("sale_id", "paid_at"),)


class Batch(Model):
    """The paid orders of one leader in one sale at cut-off: picked, dispatched, arrived at the point."""

    id = fields.IntField(primary_key=True)
    sale_id = fields.IntField()
    leader_id = fields.IntField(db_index=True)
    pickup_point_id = fields.IntField()
    status = fields.CharEnumField(BatchStatus, max_length=16, default=BatchStatus.FORMED)
    order_count = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    dispatched_at = fields.DatetimeField(null=True)
    arrived_at = fields.DatetimeField(null=True)

    class Meta:
        table = "community_batch"
        unique_together = (("sale_id", "leader_id"),)


class BatchEvent(Model):
    """Append-only history of a batch."""

    id = fields.BigIntField(primary_key=True)
    batch_id = fields.IntField(db_index=True)
    from_status = fields.CharField(max_length=16, default="")
    to_status = fields.CharField(max_length=16)
    actor = fields.CharField(max_length=64)
    params: dict = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "community_batch_event"


# --- leaders' QR codes and bindings waiting for a sign-in (h2: migration 0017_leaders) --------


class LeaderQrCode(Model):
    """The parametric official-account QR code of a leader (scene leader_CODE), made once at
    WeChat and kept: its ticket and picture stay the same for the whole life of the leader."""

    id = fields.IntField(primary_key=True)
    leader_id = fields.IntField(unique=True)
    scene = fields.CharField(max_length=64)
    ticket = fields.CharField(max_length=200)
    url = fields.CharField(max_length=500)  # what the code encodes
    image_url = fields.CharField(max_length=500)  # the code's picture at WeChat
    created_at = fields.DatetimeField()

    class Meta:
        table = "community_leader_qrcode"


class PendingLeaderBinding(Model):
    """A follower who scanned the QR code of a leader before they signed in to the mini-program:
    bound (and the row removed) at their sign-in, matched by unionid. The latest scan wins."""

    id = fields.IntField(primary_key=True)
    unionid = fields.CharField(max_length=64, unique=True)
    leader_id = fields.IntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "community_pending_binding"


class UnclaimedFlag(Model):
    """A community order still waiting at its point N days (COMMUNITY_UNCLAIMED_DAYS) after its
    batch arrived: shown to its leader and the platform (once per order: picked up later or
    not, the flag stays as what happened)."""

    id = fields.IntField(primary_key=True)
    order_id = fields.IntField(unique=True)
    batch_id = fields.IntField(db_index=True)
    leader_id = fields.IntField(db_index=True)
    pickup_point_id = fields.IntField()
    arrived_at = fields.DatetimeField()
    flagged_at = fields.DatetimeField()

    class Meta:
        table = "community_unclaimed_flag"
