"""Issue 13: leaders' commissions: rates per product or category, one commission per community
order with its lines' stamped figures, the refunds counted against it and its timeline; the
books' new leader_pending accounts and leader commission entries need no schema change (their
kinds are stored as text; a rebuild of those tables on SQLite would lose an index)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from commerce.community.commission_states import CommissionEventType, CommissionStatus
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0018_community_sales')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LeaderCommission',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order_id', fields.IntField(unique=True)),
                ('order_no', fields.CharField(max_length=32)),
                ('leader_id', fields.IntField()),
                ('leader_user_id', fields.IntField()),
                ('sale_id', fields.IntField()),
                ('basis', fields.BigIntField()),
                ('amount', fields.BigIntField()),
                ('refunded', fields.BigIntField(default=0)),
                ('reversed', fields.BigIntField(default=0)),
                ('earned', fields.BigIntField(default=0)),
                ('status', fields.CharEnumField(default=CommissionStatus.PENDING, description='PENDING: pending\nEARNED: earned\nREVERSED: reversed', enum_type=CommissionStatus, max_length=16)),
                ('accrued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('earned_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'leader_commission', 'app': 'models', 'indexes': [Index(fields=['leader_id', 'accrued_at']), Index(fields=['status', 'accrued_at'])], 'pk_attr': 'id', 'table_description': 'The commission of a leader on one paid community order (the leader stamped at payment).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeaderCommissionEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('commission_id', fields.IntField(db_index=True)),
                ('type', fields.CharEnumField(description='ACCRUED: accrued\nREVERSED_PART: reversed_part\nSTATUS_CHANGED: status_changed', enum_type=CommissionEventType, max_length=24)),
                ('from_status', fields.CharField(default='', max_length=16)),
                ('to_status', fields.CharField(default='', max_length=16)),
                ('actor', fields.CharField(max_length=64)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'leader_commission_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Append-only timeline of a commission.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeaderCommissionLine',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('commission_id', fields.IntField(db_index=True)),
                ('order_line_id', fields.IntField(unique=True)),
                ('product_id', fields.IntField()),
                ('basis', fields.BigIntField()),
                ('rate_bps', fields.IntField()),
                ('amount', fields.BigIntField()),
                ('refunded', fields.BigIntField(default=0)),
                ('reversed', fields.BigIntField(default=0)),
            ],
            options={'table': 'leader_commission_line', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The part of one order line: its rate as it stood at payment, and what refunds reversed'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeaderCommissionRate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product_id', fields.IntField(null=True, unique=True)),
                ('category_id', fields.IntField(null=True, unique=True)),
                ('rate_bps', fields.IntField()),
                ('updated_by', fields.CharField(max_length=64)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'leader_commission_rate', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A leader commission rate in basis points (1000 = 10%) for a product or a category'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeaderCommissionRefund',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('refund_id', fields.IntField(unique=True)),
                ('commission_id', fields.IntField(db_index=True)),
                ('refunded', fields.BigIntField()),
                ('reversed', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'leader_commission_refund', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A refund counted against a commission, once (its unique refund id makes a redelivered'},
            bases=['Model'],
        ),
    ]
