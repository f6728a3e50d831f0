"""Issue 13: community group-buy. Leaders and their pickup points (now with coordinates),
shoppers' bindings to a leader, daily community sales, their orders and the batches they form."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from commerce.community.states import BatchStatus, BindingSource, LeaderEventType, LeaderStatus, SaleStatus
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0015_group_deals')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Batch',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sale_id', fields.IntField()),
                ('leader_id', fields.IntField(db_index=True)),
                ('pickup_point_id', fields.IntField()),
                ('status', fields.CharEnumField(default=BatchStatus.FORMED, description='FORMED: formed\nDISPATCHED: dispatched\nARRIVED: arrived', enum_type=BatchStatus, max_length=16)),
                ('order_count', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('dispatched_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('arrived_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'community_batch', 'app': 'models', 'unique_together': (('sale_id', 'leader_id'),), 'pk_attr': 'id', 'table_description': "The paid orders of one leader in one sale at cut-off: picked, dispatched, arrived at the point."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BatchEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('batch_id', fields.IntField(db_index=True)),
                ('from_status', fields.CharField(default='', max_length=16)),
                ('to_status', fields.CharField(max_length=16)),
                ('actor', fields.CharField(max_length=64)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'community_batch_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Append-only history of a batch.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CommunityOrder',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order_id', fields.IntField(unique=True)),
                ('sale_id', fields.IntField(db_index=True)),
                ('user_id', fields.IntField()),
                ('pickup_point_id', fields.IntField()),
                ('leader_id', fields.IntField(null=True, db_index=True)),
                ('batch_id', fields.IntField(null=True, db_index=True)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'community_order', 'app': 'models', 'indexes': [Index(fields=['sale_id', 'paid_at'])], 'pk_attr': 'id', 'table_description': 'An order placed in a community sale, collected at a point (no shipping fee). The leader'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CommunitySale',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=64)),
                ('merchant_id', fields.IntField(null=True, db_index=True)),
                ('sale_date', fields.DateField()),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('cutoff_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=SaleStatus.OPEN, description='OPEN: open\nCUT_OFF: cut_off\nCANCELLED: cancelled', enum_type=SaleStatus, max_length=16)),
                ('created_by', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('cut_off_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'community_sale', 'app': 'models', 'indexes': [Index(fields=['status', 'cutoff_at'])], 'pk_attr': 'id', 'table_description': "One day of community sale: products at a community price, ordered until its cut-off."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CommunitySaleItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sale_id', fields.IntField(db_index=True)),
                ('sku_id', fields.IntField()),
                ('product_id', fields.IntField()),
                ('merchant_id', fields.IntField()),
                ('community_price', fields.BigIntField()),
            ],
            options={'table': 'community_sale_item', 'app': 'models', 'unique_together': (('sale_id', 'sku_id'),), 'pk_attr': 'id', 'table_description': 'A SKU in a community sale at its community price.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Leader',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user_id', fields.IntField(unique=True)),
                ('name', fields.CharField(max_length=32)),
                ('phone', fields.CharField(max_length=20)),
                ('status', fields.CharEnumField(description='APPLIED: applied\nAPPROVED: approved\nREFUSED: refused\nSUSPENDED: suspended', enum_type=LeaderStatus, max_length=16)),
                ('reason', fields.CharField(default='', max_length=200)),
                ('pickup_point_id', fields.IntField(unique=True)),
                ('photo', fields.CharField(default='', max_length=500)),
                ('share_code', fields.CharField(unique=True, max_length=16)),
                ('applied_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reviewed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reviewed_by', fields.CharField(default='', max_length=64)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'community_leader', 'app': 'models', 'indexes': [Index(fields=['status', 'applied_at'])], 'pk_attr': 'id', 'table_description': 'A shopper who sells to their neighbours and hands the goods over at their pickup point.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeaderBinding',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user_id', fields.IntField(unique=True)),
                ('leader_id', fields.IntField(db_index=True)),
                ('source', fields.CharEnumField(description='QR: qr\nLINK: link\nCHOSEN: chosen', enum_type=BindingSource, max_length=16)),
                ('bound_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'community_binding', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The leader a shopper is bound to now (one row per shopper, rewritten on a switch'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeaderBindingChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user_id', fields.IntField(db_index=True)),
                ('leader_id', fields.IntField()),
                ('previous_leader_id', fields.IntField(null=True)),
                ('source', fields.CharEnumField(description='QR: qr\nLINK: link\nCHOSEN: chosen', enum_type=BindingSource, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'community_binding_change', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Append-only: every binding a shopper took, and how.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeaderEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('leader_id', fields.IntField(db_index=True)),
                ('type', fields.CharEnumField(description='APPLIED: applied\nSTATUS_CHANGED: status_changed\nEDITED: edited', enum_type=LeaderEventType, max_length=24)),
                ('from_status', fields.CharField(default='', max_length=16)),
                ('to_status', fields.CharField(default='', max_length=16)),
                ('actor', fields.CharField(max_length=64)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'community_leader_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Append-only history of a leader: applied, approved, refused, suspended, edited.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='PickupPoint',
            name='latitude',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='PickupPoint',
            name='longitude',
            field=fields.FloatField(null=True),
        ),
    ]
