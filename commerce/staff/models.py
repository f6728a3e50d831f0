from tortoise import fields
from tortoise.models import Model

from commerce.staff.states import StaffRole


class StaffAccount(Model):
    """A person who works in the admin web."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    # How colleagues know them: 客服小王.
    display_name = fields.CharField(max_length=64, default="", db_default="")
    password_hash = fields.CharField(max_length=255)  # argon2id
    role = fields.CharEnumField(StaffRole, max_length=32)
    merchant = fields.ForeignKeyField(
        "models.Merchant", related_name="staff", null=True, on_delete=fields.RESTRICT
    )
    is_active = fields.BooleanField(default=True)
    # Raised to end every session of the account at once, in every process (deactivation, a
    # password reset, the merchant's suspension): a session holds the value it began with.
    session_epoch = fields.IntField(default=0, db_default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff_account"
