"""Issue 11: fulfilment of its own (express, pickup at a point, none) and pickup points. Orders
shipped before get their express fulfilment from the carrier and tracking number they hold."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from commerce.fulfilment.states import FulfilmentKind, FulfilmentStatus


async def record_shipped_orders(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(
        "INSERT INTO `fulfilment` (`order_id`, `kind`, `status`, `carrier`, `tracking_no`, `pickup_code`,"
        " `created_at`, `updated_at`, `finished_at`)"
        " SELECT o.`id`, 'express', CASE WHEN o.`status` = 'completed' THEN 'delivered' ELSE 'shipped' END,"
        " o.`carrier`, o.`tracking_no`, '', COALESCE(o.`shipped_at`, o.`updated_at`),"
        " COALESCE(o.`shipped_at`, o.`updated_at`),"
        " CASE WHEN o.`status` = 'completed' THEN o.`completed_at` END"
        " FROM `shop_order` o WHERE o.`tracking_no` <> ''"
        " AND NOT EXISTS (SELECT 1 FROM `fulfilment` f WHERE f.`order_id` = o.`id`)"
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0011_marketplace_core')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PickupPoint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=64)),
                ('address', fields.CharField(max_length=200)),
                ('merchant_id', fields.IntField(null=True, db_index=True)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'pickup_point', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A place where shoppers collect orders: of a merchant, or of the platform (no merchant).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Fulfilment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order_id', fields.IntField(unique=True)),
                ('kind', fields.CharEnumField(description='EXPRESS: express\nPICKUP: pickup\nNONE: none', enum_type=FulfilmentKind, max_length=16)),
                ('status', fields.CharEnumField(description='SHIPPED: shipped\nDELIVERED: delivered\nREADY: ready\nPICKED_UP: picked_up\nFULFILLED: fulfilled', enum_type=FulfilmentStatus, max_length=16)),
                ('carrier', fields.CharField(default='', max_length=32)),
                ('tracking_no', fields.CharField(default='', max_length=64)),
                ('pickup_point', fields.ForeignKeyField('models.PickupPoint', source_field='pickup_point_id', null=True, db_constraint=True, to_field='id', related_name='fulfilments', on_delete=OnDelete.RESTRICT)),
                ('pickup_code', fields.CharField(default='', max_length=8)),
                ('open_code', fields.CharField(null=True, max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fulfilment', 'app': 'models', 'unique_together': (('pickup_point_id', 'open_code'),), 'pk_attr': 'id', 'table_description': 'How one order reaches its shopper (one per order), with a lifecycle of its own.'},
            bases=['Model'],
        ),
        ops.RunPython(record_shipped_orders, ops.RunPython.noop),
    ]
