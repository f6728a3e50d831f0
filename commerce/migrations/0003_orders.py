from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from commerce.orders.states import EventType, OrderStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_cart_and_addresses')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Order',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order_no', fields.CharField(unique=True, max_length=32)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharEnumField(default=OrderStatus.PENDING_PAYMENT, description='PENDING_PAYMENT: pending_payment\nPAID: paid\nSHIPPED: shipped\nCOMPLETED: completed\nCANCELLED: cancelled\nREFUNDING: refunding\nREFUNDED: refunded', enum_type=OrderStatus, max_length=20)),
                ('idempotency_key', fields.CharField(max_length=64)),
                ('items_total', fields.IntField()),
                ('shipping_fee', fields.IntField()),
                ('discount_total', fields.IntField()),
                ('payable', fields.IntField()),
                ('address', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('pay_deadline', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'shop_order', 'app': 'models', 'unique_together': (('user_id', 'idempotency_key'),), 'indexes': [Index(fields=['user_id', 'status']), Index(fields=['status', 'pay_deadline'])], 'pk_attr': 'id', 'table_description': 'What a shopper bought, at what price, delivered where. Money in fen.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrderEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharEnumField(description='CREATED: created\nSTATUS_CHANGED: status_changed', enum_type=EventType, max_length=32)),
                ('from_status', fields.CharField(default='', max_length=20)),
                ('to_status', fields.CharField(default='', max_length=20)),
                ('actor', fields.CharField(max_length=64)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'order_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Append-only history of an order: who did what, when, from which status to which.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrderLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('sku_id', fields.IntField()),
                ('product_id', fields.IntField()),
                ('title', fields.CharField(max_length=120)),
                ('specs', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('image', fields.CharField(max_length=500)),
                ('unit_price', fields.IntField()),
                ('quantity', fields.IntField()),
                ('line_total', fields.IntField()),
                ('discount', fields.IntField()),
                ('payable', fields.IntField()),
            ],
            options={'table': 'order_line', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
