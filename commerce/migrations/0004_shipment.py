from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_orders')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Order',
            name='carrier',
            field=fields.CharField(default='', db_default='', max_length=32),
        ),
        ops.AddField(
            model_name='Order',
            name='completed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Order',
            name='shipped_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Order',
            name='tracking_no',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['status', 'shipped_at']),
        ),
    ]
