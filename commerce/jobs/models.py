from tortoise import fields
from tortoise.models import Model


class JobFailure(Model):
    """An item a scheduled job could not handle, with the error. The job tries it again later
    and goes on with the others meanwhile, and a later success resolves it."""

    id = fields.IntField(primary_key=True)
    job = fields.CharField(max_length=64)  # the scheduled job, e.g. cancel_unpaid_orders
    item_kind = fields.CharField(max_length=32)  # order, payment, refund, conversation
    item_id = fields.BigIntField()
    error = fields.CharField(max_length=500)  # the last error: its type and message
    attempts = fields.IntField(default=1)  # failed runs since it last succeeded
    first_seen_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    retry_at = fields.DatetimeField()  # not tried again before this (backoff)
    resolved_at = fields.DatetimeField(null=True)  # handled by a later run; None while failing

    class Meta:
        table = "job_failure"
        unique_together = (("job", "item_kind", "item_id"),)
        indexes = (("resolved_at", "last_seen_at"),)
