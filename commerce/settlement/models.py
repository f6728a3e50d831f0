"""Settlement statements: what a merchant is owed for a period, frozen when issued.

A statement holds one item per merchant_payable posting of the books (commerce.ledger) it
settles; a posting settles once (unique posting_id), and a merchant has one statement per
period (unique merchant_id, period_start), so two issuing runs issue it once. Money in fen;
the figures are the items' sums, kept on the row as issued.
"""

from tortoise import fields
from tortoise.models import Model

from commerce.settlement.states import SettlementPeriod, StatementEventType, StatementStatus


class Statement(Model):
    id = fields.IntField(primary_key=True)
    merchant_id = fields.IntField()
    period = fields.CharEnumField(SettlementPeriod, max_length=16)
    period_start = fields.DateField()  # Asia/Shanghai dates, both included
    period_end = fields.DateField()
    status = fields.CharEnumField(StatementStatus, max_length=16, default=StatementStatus.ISSUED)
    # What the shoppers paid for the settled orders, and what went back to them (gross).
    sales = fields.BigIntField()
    refunds = fields.BigIntField()
    commission = fields.BigIntField()  # the platform's commission, net of what refunds reversed
    fees = fields.BigIntField()  # WeChat Pay's fees charged to the merchant, net of reversals
    # What moved for orders settled in an earlier statement (later refunds), and postings of
    # no order: what the merchant gains (positive) or gives back (negative).
    adjustments = fields.BigIntField()
    carried_in = fields.BigIntField(default=0)  # earlier statements' amounts (<= 0) taken over
    # sales - refunds - commission - fees + adjustments + carried_in; the sum of its items'
    # merchant_payable postings, negated (plus carried_in).
    owed = fields.BigIntField()
    item_count = fields.IntField()
    issued_at = fields.DatetimeField()
    approved_by = fields.CharField(max_length=64, default="")
    approved_at = fields.DatetimeField(null=True)
    paid_by = fields.CharField(max_length=64, default="")
    paid_at = fields.DatetimeField(null=True)  # when it was marked paid
    paid_on = fields.DateField(null=True)  # the bank transfer's date (Asia/Shanghai), as finance says
    bank_reference = fields.CharField(max_length=64, default="")
    carried_into = fields.IntField(null=True)  # the statement that took its amount, when carried
    updated_at = fields.DatetimeField()

    class Meta:
        table = "settlement_statement"
        unique_together = (("merchant_id", "period_start"),)
        indexes = (("status", "merchant_id"),)


class StatementItem(Model):
    """One posting settled, with the figures of its order in the entry of the posting (frozen)."""

    id = fields.BigIntField(primary_key=True)
    statement = fields.ForeignKeyField("models.Statement", related_name="items", on_delete=fields.RESTRICT)
    merchant_id = fields.IntField()
    posting_id = fields.BigIntField(unique=True)  # commerce.ledger's Posting: settles once
    entry_id = fields.BigIntField()
    entry_kind = fields.CharField(max_length=32)  # payment, refund, adjustment
    entry_key = fields.CharField(max_length=96)
    order_id = fields.IntField(null=True, db_index=True)
    occurred_at = fields.DatetimeField()
    payable = fields.BigIntField()  # what it adds to the amount owed (the posting, negated)
    sales = fields.BigIntField(default=0)
    refunds = fields.BigIntField(default=0)
    commission = fields.BigIntField(default=0)
    fees = fields.BigIntField(default=0)
    is_adjustment = fields.BooleanField(default=False)  # its order was settled before (or none)

    class Meta:
        table = "settlement_statement_item"
        indexes = (("merchant_id", "order_id"),)


class StatementEvent(Model):
    """Append-only history of a statement."""

    id = fields.BigIntField(primary_key=True)
    statement = fields.ForeignKeyField("models.Statement", related_name="events", on_delete=fields.CASCADE)
    type = fields.CharEnumField(StatementEventType, max_length=32)
    from_status = fields.CharField(max_length=16, default="")
    to_status = fields.CharField(max_length=16, default="")
    actor = fields.CharField(max_length=64)
    params: dict = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "settlement_statement_event"
