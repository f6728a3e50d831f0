from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    """A change made by staff: who, what, on which object, before and after, when. Append-only."""

    id = fields.BigIntField(primary_key=True)
    actor = fields.CharField(max_length=64, db_index=True)  # staff:3
    action = fields.CharField(max_length=64)  # merchant.create, staff.create, ...
    object_type = fields.CharField(max_length=32)
    object_id = fields.CharField(max_length=64)
    summary = fields.CharField(max_length=200, default="")  # what a person searches for
    before: dict | None = fields.JSONField(null=True)
    after: dict | None = fields.JSONField(null=True)
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "audit_entry"
        indexes = (("object_type", "object_id"),)
