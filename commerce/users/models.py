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
