from tortoise import migrations
from tortoise.migrations import operations as ops
from commerce.orders.states import EventType
from commerce.payments.states import RefundStatus
from tortoise import fields
import json

from commerce.migration_tools import foreign_keys_off, foreign_keys_on, restore_indexes


async def copy_receivers_out_of_addresses(apps, schema_editor):
    """Orders placed before this migration: their receiver's name and phone, copied out of the
    address JSON so staff can search them like new orders."""
    client = schema_editor.client
    mark = "%s" if client.capabilities.dialect == "mysql" else "?"
    _, rows = await client.execute_query("SELECT `id`, `address` FROM `shop_order` WHERE `receiver_phone` = ''")
    for row in rows:
        address = row["address"]
        address = json.loads(address) if isinstance(address, (str, bytes)) else (address or {})
        name, phone = str(address.get("name", ""))[:50], str(address.get("phone", ""))[:20]
        await client.execute_query(
            f"UPDATE `shop_order` SET `receiver_name` = {mark}, `receiver_phone` = {mark},"
            f" `receiver_phone_tail` = {mark} WHERE `id` = {mark}",
            [name, phone, phone[-4:], row["id"]],
        )

# Indexes the models declare on the two tables this migration changes. On SQLite an AlterField
# rebuilds the table and drops its indexes; on MySQL an AddField with db_index creates none.
# Whatever is missing afterwards is created here (a no-op where it survived).
INDEXES = {
    "shop_order": [
        (["created_at"], False),
        (["receiver_phone"], False),
        (["receiver_phone_tail"], False),
        (["status", "pay_deadline"], False),
        (["status", "shipped_at"], False),
        (["user_id", "status"], False),
        (["user_id", "idempotency_key"], True),
    ],
    "refund": [(["order_id"], False), (["status", "updated_at"], False)],
}


class Migration(migrations.Migration):
    dependencies = [('models', '0007_audit_log')]

    initial = False
    # Rebuilding shop_order on SQLite with foreign keys on deleted every order's lines and
    # events (ON DELETE CASCADE): foreign keys go off first, outside a transaction.
    atomic = False

    operations = [
        ops.RunPython(foreign_keys_off, ops.RunPython.noop),
        ops.CreateModel(
            name='CannedReply',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=30)),
                ('text', fields.CharField(max_length=600)),
                ('sort', fields.IntField(default=0)),
                ('created_by', fields.CharField(max_length=64)),
                ('updated_by', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'support_canned_reply', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A reply agents keep at hand (快捷回复): picked on the conversation page, sent as typed.'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Order',
            name='created_at',
            field=fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Order',
            name='receiver_name',
            field=fields.CharField(default='', db_default='', max_length=50),
        ),
        ops.AddField(
            model_name='Order',
            name='receiver_phone',
            field=fields.CharField(default='', db_default='', db_index=True, max_length=20),
        ),
        ops.AddField(
            model_name='Order',
            name='receiver_phone_tail',
            field=fields.CharField(default='', db_default='', db_index=True, max_length=4),
        ),
        ops.AddField(
            model_name='Order',
            name='refund_from',
            field=fields.CharField(default='', db_default='', max_length=20),
        ),
        ops.RunPython(copy_receivers_out_of_addresses, ops.RunPython.noop),
        ops.AlterField(
            model_name='OrderEvent',
            name='type',
            field=fields.CharEnumField(description='CREATED: created\nSTATUS_CHANGED: status_changed\nPAYMENT_RETURNED: payment_returned\nREFUND_FAILED: refund_failed\nREFUND_APPROVED: refund_approved\nREFUND_RETRIED: refund_retried\nNOTE: note', enum_type=EventType, max_length=32),
        ),
        ops.AlterField(
            model_name='Refund',
            name='status',
            field=fields.CharEnumField(default=RefundStatus.REQUESTED, description='AWAITING_REVIEW: awaiting_review\nREFUSED: refused\nREQUESTED: requested\nPROCESSING: processing\nSUCCEEDED: succeeded\nFAILED: failed', enum_type=RefundStatus, max_length=16),
        ),
        ops.AddField(
            model_name='Refund',
            name='failure_code',
            field=fields.CharField(default='', db_default='', max_length=32),
        ),
        ops.AddField(
            model_name='Refund',
            name='refusal',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Refund',
            name='retried_as_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Refund',
            name='reviewed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Refund',
            name='reviewed_by',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.RunPython(restore_indexes(INDEXES), ops.RunPython.noop),
        ops.RunPython(foreign_keys_on, ops.RunPython.noop),
    ]
