"""Issue 13: 拼团 group deals. Deals on some SKUs of a product at a group price, their groups
(seats taken and paid by conditional updates), each shopper's seat (one live seat per shopper
and group, by a unique key), the groups' timelines; orders waiting for their group (grouping)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from commerce.groupbuy.states import DealStatus, GroupEventType, GroupStatus, SeatStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0014_books')]

    initial = False

    operations = [
        ops.CreateModel(
            name='GroupDeal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('merchant_id', fields.IntField(db_index=True)),
                ('product_id', fields.IntField(db_index=True)),
                ('title', fields.CharField(max_length=60)),
                ('group_size', fields.IntField()),
                ('time_limit_minutes', fields.IntField()),
                ('per_shopper_limit', fields.IntField(default=1)),
                ('min_paid_at_deadline', fields.IntField(null=True)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=DealStatus.ACTIVE, description='ACTIVE: active\nENDED: ended', enum_type=DealStatus, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'group_deal', 'app': 'models', 'pk_attr': 'id', 'table_description': "A merchant 拼团 deal: some SKUs of one product at a group price, for groups of group_size"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Group',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('deal', fields.ForeignKeyField('models.GroupDeal', source_field='deal_id', db_constraint=True, to_field='id', related_name='groups', on_delete=OnDelete.RESTRICT)),
                ('opener_id', fields.IntField()),
                ('size', fields.IntField()),
                ('taken', fields.IntField(default=0)),
                ('paid', fields.IntField(default=0)),
                ('status', fields.CharEnumField(default=GroupStatus.FORMING, description='FORMING: forming\nSUCCEEDED: succeeded\nFAILED: failed', enum_type=GroupStatus, max_length=16)),
                ('deadline', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'group_buy', 'app': 'models', 'indexes': [Index(fields=['status', 'deadline']), Index(fields=['deal_id', 'status'])], 'pk_attr': 'id', 'table_description': 'One group of a deal. taken counts held and paid seats, paid the paid ones, both'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GroupDealSku',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('deal', fields.ForeignKeyField('models.GroupDeal', source_field='deal_id', db_constraint=True, to_field='id', related_name='skus', on_delete=OnDelete.CASCADE)),
                ('sku_id', fields.IntField(db_index=True)),
                ('group_price', fields.BigIntField()),
            ],
            options={'table': 'group_deal_sku', 'app': 'models', 'unique_together': (('deal_id', 'sku_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GroupEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.Group', source_field='group_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharEnumField(description='OPENED: opened\nSEAT_HELD: seat_held\nSEAT_PAID: seat_paid\nSEAT_LAPSED: seat_lapsed\nSTATUS_CHANGED: status_changed\nMOVED_IN: moved_in', enum_type=GroupEventType, max_length=32)),
                ('from_status', fields.CharField(default='', max_length=20)),
                ('to_status', fields.CharField(default='', max_length=20)),
                ('actor', fields.CharField(max_length=64)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'group_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Append-only history of a group.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GroupSeat',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.Group', source_field='group_id', db_constraint=True, to_field='id', related_name='seats', on_delete=OnDelete.RESTRICT)),
                ('user_id', fields.IntField(db_index=True)),
                ('live_user_id', fields.IntField(null=True)),
                ('order_id', fields.IntField(null=True, db_index=True)),
                ('quantity', fields.IntField(default=1)),
                ('status', fields.CharEnumField(default=SeatStatus.HELD, description='HELD: held\nPAID: paid\nLAPSED: lapsed\nREFUNDED: refunded', enum_type=SeatStatus, max_length=16)),
                ('held_until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'group_seat', 'app': 'models', 'unique_together': (('group_id', 'live_user_id'),), 'indexes': [Index(fields=['status', 'held_until'])], 'pk_attr': 'id', 'table_description': "A shopper seat in a group, for one order. live_user_id is the user while the seat"},
            bases=['Model'],
        ),
    ]
