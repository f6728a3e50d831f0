from tortoise import migrations
from tortoise.migrations import operations as ops
from commerce.orders.states import EventType
from commerce.payments.states import PaymentStatus, RefundStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_shipment')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Payment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order_id', fields.IntField(db_index=True)),
                ('provider', fields.CharField(default='wechatpay', max_length=16)),
                ('out_trade_no', fields.CharField(unique=True, max_length=32)),
                ('amount', fields.IntField()),
                ('status', fields.CharEnumField(default=PaymentStatus.PENDING, description='PENDING: pending\nPAID: paid\nCLOSED: closed', enum_type=PaymentStatus, max_length=16)),
                ('prepay_id', fields.CharField(default='', max_length=64)),
                ('prepay_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('transaction_id', fields.CharField(null=True, max_length=32)),
                ('payer_openid', fields.CharField(default='', max_length=64)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'payment', 'app': 'models', 'unique_together': (('provider', 'transaction_id'),), 'indexes': [Index(fields=['status', 'updated_at'])], 'pk_attr': 'id', 'table_description': 'One attempt to pay an order through WeChat Pay: its out_trade_no and prepay.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Refund',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order_id', fields.IntField(db_index=True)),
                ('payment', fields.ForeignKeyField('models.Payment', source_field='payment_id', db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.RESTRICT)),
                ('out_refund_no', fields.CharField(unique=True, max_length=64)),
                ('amount', fields.IntField()),
                ('reason', fields.CharField(max_length=80)),
                ('automatic', fields.BooleanField(default=False)),
                ('status', fields.CharEnumField(default=RefundStatus.REQUESTED, description='REQUESTED: requested\nPROCESSING: processing\nSUCCEEDED: succeeded\nFAILED: failed', enum_type=RefundStatus, max_length=16)),
                ('refund_id', fields.CharField(default='', max_length=64)),
                ('requested_by', fields.CharField(max_length=64)),
                ('failure', fields.CharField(default='', max_length=200)),
                ('succeeded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'refund', 'app': 'models', 'indexes': [Index(fields=['status', 'updated_at'])], 'pk_attr': 'id', 'table_description': 'Money going back to the shopper for a paid attempt. Money in fen.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Order',
            name='paid_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='OrderEvent',
            name='type',
            field=fields.CharEnumField(description='CREATED: created\nSTATUS_CHANGED: status_changed\nPAYMENT_RETURNED: payment_returned\nREFUND_FAILED: refund_failed', enum_type=EventType, max_length=32),
        ),
    ]
