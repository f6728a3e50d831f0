from tortoise import fields
from tortoise.models import Model

from commerce.reconciliation.states import DifferenceKind, DifferenceStatus, RunStatus, Source, Subject


class ReconciliationRun(Model):
    """The comparison of the WeChat Pay bills of one day (Asia/Shanghai) with our payments and
    refunds: one row per day, run again on request. Money in fen."""

    id = fields.IntField(primary_key=True)
    bill_date = fields.DateField(unique=True)
    status = fields.CharEnumField(RunStatus, max_length=16, default=RunStatus.RUNNING)
    trade_rows = fields.IntField(default=0)  # lines of the trade bill
    fund_rows = fields.IntField(default=0)  # lines of the fund-flow bill
    found = fields.IntField(default=0)  # differences found by the last run (new or known)
    fees = fields.BigIntField(null=True)  # the day's WeChat Pay fees (fund-flow bill), net
    attempts = fields.IntField(default=0)
    error = fields.CharField(max_length=300, default="")  # why the last attempt failed
    requested_by = fields.CharField(max_length=64, default="system")
    started_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "reconciliation_run"


class ReconciliationDifference(Model):
    """One thing the bills of a day and our books disagree on, found once however often the day
    is run again, then resolved by a finance person with a note. Money in fen."""

    id = fields.IntField(primary_key=True)
    run_id = fields.IntField(db_index=True)
    bill_date = fields.DateField()
    kind = fields.CharEnumField(DifferenceKind, max_length=24)
    subject = fields.CharEnumField(Subject, max_length=16)
    reference = fields.CharField(max_length=64)  # out_trade_no or out_refund_no
    source = fields.CharEnumField(Source, max_length=16)  # the bill that showed it first
    ours_amount = fields.BigIntField(null=True)
    theirs_amount = fields.BigIntField(null=True)
    ours_state = fields.CharField(max_length=32, default="")
    theirs_state = fields.CharField(max_length=32, default="")
    status = fields.CharEnumField(DifferenceStatus, max_length=16, default=DifferenceStatus.OPEN)
    resolution = fields.CharField(max_length=500, default="")
    resolved_by = fields.CharField(max_length=64, default="")
    resolved_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "reconciliation_difference"
        unique_together = (("bill_date", "kind", "reference"),)
        indexes = (("status", "bill_date"),)
