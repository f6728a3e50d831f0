"""Issue 11: after-sales of its own (requests per line and quantity, their lines and timeline),
orders reduced to their own life (refunding/refunded leave; closed comes), pickup chosen at
checkout (pickup points gain opening hours and a contact phone).

Whole-order refunds asked before are brought into after-sales by
commerce.aftersales.upgrade between adding the new columns and dropping `refund_from`, the
last reader of which it is. Order events and outbox rows keep the old statuses as history.
"""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from commerce.aftersales.states import AfterSaleEventType, AfterSaleKind, AfterSaleStatus
from commerce.aftersales.upgrade import upgrade_refunds
from commerce.migration_tools import DropColumn, restore_indexes


async def upgrade_existing_refunds(apps, schema_editor) -> None:
    await upgrade_refunds(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [('models', '0012_fulfilment')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AfterSale',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('aftersale_no', fields.CharField(unique=True, max_length=32)),
                ('order_id', fields.IntField(db_index=True)),
                ('user_id', fields.IntField(db_index=True)),
                ('merchant_id', fields.IntField()),
                ('kind', fields.CharEnumField(description='REFUND_ONLY: refund_only\nRETURN_REFUND: return_refund', enum_type=AfterSaleKind, max_length=16)),
                ('status', fields.CharEnumField(description='REQUESTED: requested\nAWAITING_RETURN: awaiting_return\nRETURNING: returning\nREFUNDING: refunding\nREFUNDED: refunded\nREFUSED: refused\nCANCELLED: cancelled', enum_type=AfterSaleStatus, max_length=16)),
                ('reason', fields.CharField(max_length=80)),
                ('description', fields.CharField(default='', max_length=500)),
                ('photos', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('amount', fields.BigIntField()),
                ('shipping_amount', fields.BigIntField(default=0)),
                ('before_shipment', fields.BooleanField()),
                ('return_carrier', fields.CharField(default='', max_length=32)),
                ('return_tracking_no', fields.CharField(default='', max_length=64)),
                ('restocked', fields.BooleanField(null=True)),
                ('refund_id', fields.IntField(null=True)),
                ('review_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reviewed_by', fields.CharField(default='', max_length=64)),
                ('reviewed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('refusal', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'aftersale', 'app': 'models', 'indexes': [Index(fields=['status', 'review_due_at']), Index(fields=['merchant_id', 'status'])], 'pk_attr': 'id', 'table_description': 'A request of a shopper for money back on some lines (and quantities) of one order.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AfterSaleEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('aftersale', fields.ForeignKeyField('models.AfterSale', source_field='aftersale_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharEnumField(description='REQUESTED: requested\nSTATUS_CHANGED: status_changed\nRETURN_SHIPPED: return_shipped\nRECEIVED: received\nREFUND_FAILED: refund_failed\nREFUND_RETRIED: refund_retried\nNOTE: note', enum_type=AfterSaleEventType, max_length=32)),
                ('from_status', fields.CharField(default='', max_length=16)),
                ('to_status', fields.CharField(default='', max_length=16)),
                ('actor', fields.CharField(max_length=64)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'aftersale_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Append-only timeline of a request.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AfterSaleLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('aftersale', fields.ForeignKeyField('models.AfterSale', source_field='aftersale_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('order_line_id', fields.IntField(db_index=True)),
                ('sku_id', fields.IntField()),
                ('title', fields.CharField(max_length=120)),
                ('quantity', fields.IntField()),
                ('amount', fields.BigIntField()),
            ],
            options={'table': 'aftersale_line', 'app': 'models', 'pk_attr': 'id', 'table_description': 'What of one order line the request covers: a quantity and the money for it (at most the'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='OrderClaim',
            name='released_quantity',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='OrderLine',
            name='refund_amount',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='OrderLine',
            name='refund_quantity',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='PickupPoint',
            name='contact_phone',
            field=fields.CharField(default='', db_default='', max_length=20),
        ),
        ops.AddField(
            model_name='PickupPoint',
            name='opening_hours',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='Refund',
            name='aftersale_id',
            field=fields.IntField(null=True, db_index=True),
        ),
        # Tortoise's AddField makes no index on MySQL: the refunds of a request are found by it.
        ops.RunPython(restore_indexes({"refund": [(["aftersale_id"], False)]}), ops.RunPython.noop),
        ops.RunPython(upgrade_existing_refunds, ops.RunPython.noop),
        DropColumn(model_name='Order', name='refund_from'),
    ]
