"""Issue 10 (hardening): money columns become BIGINT; SKUs are retired, not deleted, once
ordered; scheduled jobs record their failing items; staff accounts get display names and a
session epoch."""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from commerce.migration_tools import AlterField, foreign_keys_off, foreign_keys_on, restore_indexes

# Every AlterField below rebuilds its table on SQLite (foreign keys off, or the children of a
# rebuilt table would be deleted with it), dropping the indexes the models declare; on MySQL
# it modifies the column in place.
INDEXES = {
    "shop_order": [
        (["created_at"], False),
        (["receiver_phone"], False),
        (["receiver_phone_tail"], False),
        (["status", "pay_deadline"], False),
        (["status", "shipped_at"], False),
        (["user_id", "status"], False),
        (["user_id", "idempotency_key"], True),
        (["order_no"], True),
    ],
    "payment": [
        (["status", "updated_at"], False),
        (["order_id"], False),
        (["provider", "transaction_id"], True),
        (["out_trade_no"], True),
    ],
    "refund": [(["status", "updated_at"], False), (["order_id"], False), (["out_refund_no"], True)],
    "product": [
        (["status", "category_id"], False),
        (["updated_at"], False),
        (["status"], False),
        (["spu_code"], True),
    ],
    "sku": [(["sku_code"], True)],
}


async def mark_ordered_skus(apps, schema_editor) -> None:
    """SKUs that orders already hold are never deleted from now on."""
    await schema_editor.client.execute_script(
        "UPDATE `sku` SET `ever_ordered` = 1 WHERE `id` IN (SELECT DISTINCT `sku_id` FROM `order_line`)"
    )


class Migration(migrations.Migration):
    dependencies = [("models", "0009_unknown_message_kinds")]

    initial = False
    atomic = False  # SQLite turns foreign keys off only outside a transaction (foreign_keys_off)

    operations = [
        ops.RunPython(foreign_keys_off, ops.RunPython.noop),
        ops.CreateModel(
            name='JobFailure',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('job', fields.CharField(max_length=64)),
                ('item_kind', fields.CharField(max_length=32)),
                ('item_id', fields.BigIntField()),
                ('error', fields.CharField(max_length=500)),
                ('attempts', fields.IntField(default=1)),
                ('first_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('retry_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'job_failure', 'app': 'models', 'unique_together': (('job', 'item_kind', 'item_id'),), 'indexes': [Index(fields=['resolved_at', 'last_seen_at'])], 'pk_attr': 'id', 'table_description': 'An item a scheduled job could not handle, with the error. The job tries it again later'},
            bases=['Model'],
        ),
        AlterField(
            model_name='Order',
            name='discount_total',
            field=fields.BigIntField(),
        ),
        AlterField(
            model_name='Order',
            name='items_total',
            field=fields.BigIntField(),
        ),
        AlterField(
            model_name='Order',
            name='payable',
            field=fields.BigIntField(),
        ),
        AlterField(
            model_name='Order',
            name='shipping_fee',
            field=fields.BigIntField(),
        ),
        AlterField(
            model_name='OrderLine',
            name='discount',
            field=fields.BigIntField(),
        ),
        AlterField(
            model_name='OrderLine',
            name='line_total',
            field=fields.BigIntField(),
        ),
        AlterField(
            model_name='OrderLine',
            name='payable',
            field=fields.BigIntField(),
        ),
        AlterField(
            model_name='OrderLine',
            name='unit_price',
            field=fields.BigIntField(),
        ),
        AlterField(
            model_name='Payment',
            name='amount',
            field=fields.BigIntField(),
        ),
        AlterField(
            model_name='Product',
            name='max_price',
            field=fields.BigIntField(default=0),
        ),
        AlterField(
            model_name='Product',
            name='min_price',
            field=fields.BigIntField(default=0),
        ),
        AlterField(
            model_name='Refund',
            name='amount',
            field=fields.BigIntField(),
        ),
        AlterField(
            model_name='Sku',
            name='market_price',
            field=fields.BigIntField(default=0),
        ),
        AlterField(
            model_name='Sku',
            name='price',
            field=fields.BigIntField(),
        ),
        ops.AddField(
            model_name='Sku',
            name='ever_ordered',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Sku',
            name='retired_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='StaffAccount',
            name='display_name',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='StaffAccount',
            name='session_epoch',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.RunPython(restore_indexes(INDEXES), ops.RunPython.noop),
        ops.RunPython(mark_ordered_skus, ops.RunPython.noop),
        ops.RunPython(foreign_keys_on, ops.RunPython.noop),
    ]
