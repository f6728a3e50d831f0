from tortoise import fields
from tortoise.models import Model


class User(Model):
    """A shopper, keyed by the mini-program openid, linked to the official account by unionid."""

    id = fields.IntField(primary_key=True)
    openid = fields.CharField(max_length=64, unique=True)
    unionid = fields.CharField(max_length=64, null=True, unique=True)
    nickname = fields.CharField(max_length=64, default="")
    avatar_url = fields.CharField(max_length=500, default="")
    # From getPhoneNumber: the number without its country code (13800138000) and the code (86).
    phone = fields.CharField(max_length=20, default="")
    phone_country_code = fields.CharField(max_length=8, default="")
    # Bumped to revoke every session token issued before.
    session_version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "user"


class Address(Model):
    """Where a shopper wants things delivered."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="addresses", on_delete=fields.CASCADE)
    receiver_name = fields.CharField(max_length=32)
    phone = fields.CharField(max_length=20)
    province = fields.CharField(max_length=32)
    city = fields.CharField(max_length=32)
    district = fields.CharField(max_length=32)
    detail = fields.CharField(max_length=120)
    is_default = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "address"


class Follower(Model):
    """A follower of the official account. Its openid belongs to that account alone: the shopper behind
    it is the User with the same unionid (found at lookup, so a later mini-program login links)."""

    id = fields.IntField(primary_key=True)
    openid = fields.CharField(max_length=64, unique=True)
    unionid = fields.CharField(max_length=64, null=True, db_index=True)
    subscribed = fields.BooleanField(default=True)  # false after unsubscribe: no pushes at all
    subscribed_at = fields.DatetimeField(null=True)
    unsubscribed_at = fields.DatetimeField(null=True)
    first_scene = fields.CharField(max_length=64, default="")  # the QR scene of the first follow
    # The last location the follower sent (community pickup points will use it).
    location: dict | None = fields.JSONField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "mp_follower"


class FollowerTouch(Model):
    """An attribution touch-point: a follow or a scan through a parametric QR code scene, raw."""

    id = fields.BigIntField(primary_key=True)
    openid = fields.CharField(max_length=64, db_index=True)
    kind = fields.CharField(max_length=16)  # subscribe, scan
    scene = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()

    class Meta:
        table = "mp_follower_touch"
        indexes = (("scene", "created_at"),)


class TemplateReport(Model):
    """What WeChat reported on a template message it sent (TEMPLATESENDJOBFINISH)."""

    id = fields.BigIntField(primary_key=True)
    msg_id = fields.CharField(max_length=32, db_index=True)
    openid = fields.CharField(max_length=64)
    status = fields.CharField(max_length=64)  # success, failed:user block, failed: system failed
    created_at = fields.DatetimeField()

    class Meta:
        table = "mp_template_report"


class SubscribeCredit(Model):
    """The mini-program subscribe messages a shopper accepted and we have not sent yet, per
    template: each acceptance given to wx.requestSubscribeMessage lets WeChat deliver one."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="subscribe_credits", on_delete=fields.CASCADE)
    template_id = fields.CharField(max_length=64)
    credits = fields.IntField(default=0)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "subscribe_credit"
        unique_together = (("user", "template_id"),)
