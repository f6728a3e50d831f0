"""Issue 11 (the core for a marketplace): checkouts paid as one, one order per merchant, the
merchant stamped on orders and lines, order adjustments and claims, refunds of part of an
order, outbox delivery per subscriber, merchant shipping templates.

Existing orders are brought into shape by commerce.orders.upgrade between adding the new
columns (nullable, or with a default) and making them required.
"""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from commerce.migration_tools import (
    AlterField,
    RemoveUniqueTogether,
    foreign_keys_off,
    foreign_keys_on,
    restore_indexes,
)
from commerce.orders.upgrade import upgrade_orders

# The AlterFields below rebuild shop_order and payment on SQLite, dropping their indexes.
INDEXES = {
    "shop_order": [
        (["created_at"], False),
        (["receiver_phone"], False),
        (["receiver_phone_tail"], False),
        (["status", "pay_deadline"], False),
        (["status", "shipped_at"], False),
        (["user_id", "status"], False),
        (["order_no"], True),
        (["merchant_id"], False),
    ],
    "payment": [
        (["status", "updated_at"], False),
        (["provider", "transaction_id"], True),
        (["out_trade_no"], True),
    ],
}


async def upgrade_existing_orders(apps, schema_editor) -> None:
    await upgrade_orders(schema_editor.client)


async def checkout_foreign_keys(apps, schema_editor) -> None:
    """On MySQL, Tortoise's AddField of a relation adds the column only: the constraint (and
    the index MySQL makes for it) are added here, once every row points at its checkout."""
    client = schema_editor.client
    if client.capabilities.dialect != "mysql":
        return
    for table in ("shop_order", "payment"):
        await client.execute_script(
            f"ALTER TABLE `{table}` ADD CONSTRAINT `fk_{table}_checkout` FOREIGN KEY (`checkout_id`)"
            " REFERENCES `checkout` (`id`) ON DELETE RESTRICT"
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0010_hardening')]

    initial = False
    atomic = False  # SQLite turns foreign keys off only outside a transaction (foreign_keys_off)

    operations = [
        ops.RunPython(foreign_keys_off, ops.RunPython.noop),
        ops.CreateModel(
            name='Checkout',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('checkout_no', fields.CharField(unique=True, max_length=32)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='checkouts', on_delete=OnDelete.RESTRICT)),
                ('idempotency_key', fields.CharField(max_length=64)),
                ('payable', fields.BigIntField()),
                ('pay_deadline', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'checkout', 'app': 'models', 'unique_together': (('user_id', 'idempotency_key'),), 'pk_attr': 'id', 'table_description': 'One submission of a checkout: an order per merchant, paid together by one'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrderAdjustment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='adjustments', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=32)),
                ('source_id', fields.CharField(default='', max_length=64)),
                ('label', fields.CharField(max_length=64)),
                ('amount', fields.BigIntField()),
                ('split', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'order_adjustment', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A price adjustment the quote made for this order (shipping, a discount), with its split'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrderClaim',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='claims', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=32)),
                ('ref', fields.CharField(max_length=64)),
                ('quantity', fields.IntField(default=1)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('taken_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('released_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'order_claim', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Something an order took when committed (units of stock, later a coupon, points, …),'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event', fields.ForeignKeyField('models.OutboxEvent', source_field='event_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('subscriber', fields.CharField(max_length=64)),
                ('available_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'outbox_delivery', 'app': 'models', 'unique_together': (('event', 'subscriber'),), 'pk_attr': 'id', 'table_description': 'The delivery of one event to one subscriber.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ShippingTemplate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('merchant', fields.OneToOneField('models.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='shipping_template', on_delete=OnDelete.CASCADE)),
                ('fee', fields.IntField()),
                ('free_from', fields.IntField(null=True)),
                ('version', fields.IntField(default=1)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'shipping_template', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The shipping fee of one order of a merchant: a flat fee, free from an amount of goods,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ShippingProvinceRule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('template', fields.ForeignKeyField('models.ShippingTemplate', source_field='template_id', db_constraint=True, to_field='id', related_name='provinces', on_delete=OnDelete.CASCADE)),
                ('province', fields.CharField(max_length=16)),
                ('fee', fields.IntField(null=True)),
                ('free_from', fields.IntField(null=True)),
                ('never_free', fields.BooleanField(default=False)),
                ('undeliverable', fields.BooleanField(default=False)),
            ],
            options={'table': 'shipping_province_rule', 'app': 'models', 'unique_together': (('template', 'province'),), 'pk_attr': 'id', 'table_description': 'How one province differs from its template: another fee, another free-from amount (or'},
            bases=['Model'],
        ),
        RemoveUniqueTogether(
            model_name='Order',
            name=None,
            fields=['user_id', 'idempotency_key'],
        ),
        ops.AlterModelOptions(
            name='Order',
            options={'table': 'shop_order', 'app': 'models', 'indexes': [Index(fields=['user_id', 'status']), Index(fields=['status', 'pay_deadline']), Index(fields=['status', 'shipped_at'])], 'pk_attr': 'id', 'table_description': 'What a shopper bought from one merchant, at what price, delivered where. Money in fen.'},
        ),
        ops.AddField(
            model_name='Order',
            name='checkout',
            field=fields.ForeignKeyField('models.Checkout', source_field='checkout_id', db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.RESTRICT, null=True),
        ),
        ops.AddField(
            model_name='Order',
            name='merchant_id',
            field=fields.IntField(db_index=True, db_default=0),
        ),
        ops.AddField(
            model_name='Order',
            name='refunded',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='OrderLine',
            name='merchant_id',
            field=fields.IntField(db_default=0),
        ),
        ops.AlterModelOptions(
            name='Payment',
            options={'table': 'payment', 'app': 'models', 'unique_together': (('provider', 'transaction_id'),), 'indexes': [Index(fields=['status', 'updated_at'])], 'pk_attr': 'id', 'table_description': 'One attempt to pay a checkout (all its orders, one per merchant) through WeChat Pay: its'},
        ),
        ops.AddField(
            model_name='Payment',
            name='checkout',
            field=fields.ForeignKeyField('models.Checkout', source_field='checkout_id', db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.RESTRICT, null=True),
        ),
        ops.AlterModelOptions(
            name='Refund',
            options={'table': 'refund', 'app': 'models', 'indexes': [Index(fields=['status', 'updated_at'])], 'pk_attr': 'id', 'table_description': 'Money going back to the shopper: some or all of what one order of a paid attempt took.'},
        ),
        ops.AddField(
            model_name='Refund',
            name='whole_order',
            field=fields.BooleanField(default=True, db_default=True),
        ),
            ops.RunPython(upgrade_existing_orders, ops.RunPython.noop),
        ops.RemoveField(model_name='Payment', name='order_id'),
        AlterField(
            model_name='Order',
            name='checkout',
            field=fields.ForeignKeyField('models.Checkout', source_field='checkout_id', db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.RESTRICT),
        ),
        AlterField(
            model_name='Payment',
            name='checkout',
            field=fields.ForeignKeyField('models.Checkout', source_field='checkout_id', db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.RESTRICT),
        ),
        # The merchant stamp was added with a default for the rows already there; from now on
        # every order states it.
        AlterField(model_name='Order', name='merchant_id', field=fields.IntField(db_index=True)),
        AlterField(model_name='OrderLine', name='merchant_id', field=fields.IntField()),
        ops.RunPython(checkout_foreign_keys, ops.RunPython.noop),
        ops.RunPython(restore_indexes(INDEXES), ops.RunPython.noop),
        ops.RunPython(foreign_keys_on, ops.RunPython.noop),
    ]
