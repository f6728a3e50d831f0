from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from commerce.catalog.states import ProductStatus
from commerce.merchants.states import MerchantStatus
from commerce.staff.states import StaffRole
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Category',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=50)),
                ('parent', fields.ForeignKeyField('models.Category', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.RESTRICT)),
                ('parent_key', fields.IntField(default=0)),
                ('level', fields.SmallIntField()),
                ('path', fields.CharField(db_index=True, max_length=255)),
                ('sort', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'category', 'app': 'models', 'unique_together': (('parent_key', 'name'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Merchant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(max_length=100)),
                ('contact_name', fields.CharField(default='', max_length=50)),
                ('contact_phone', fields.CharField(default='', max_length=20)),
                ('status', fields.CharEnumField(default=MerchantStatus.ACTIVE, description='ACTIVE: active\nSUSPENDED: suspended', enum_type=MerchantStatus, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'merchant', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('topic', fields.CharField(max_length=64)),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('available_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('delivered_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'outbox_event', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Product',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='products', on_delete=OnDelete.RESTRICT)),
                ('category', fields.ForeignKeyField('models.Category', source_field='category_id', db_constraint=True, to_field='id', related_name='products', on_delete=OnDelete.RESTRICT)),
                ('spu_code', fields.CharField(unique=True, max_length=64)),
                ('title', fields.CharField(max_length=120)),
                ('subtitle', fields.CharField(default='', max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('images', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('video_url', fields.CharField(default='', max_length=500)),
                ('status', fields.CharEnumField(default=ProductStatus.DRAFT, db_index=True, description='DRAFT: draft\nON_SALE: on_sale\nOFF_SHELF: off_shelf', enum_type=ProductStatus, max_length=16)),
                ('spec_axes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('min_price', fields.IntField(default=0)),
                ('max_price', fields.IntField(default=0)),
                ('total_stock', fields.IntField(default=0)),
                ('sales', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(db_index=True, auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'product', 'app': 'models', 'indexes': [Index(fields=['status', 'category_id'])], 'pk_attr': 'id', 'table_description': 'A product (SPU): what a shopper sees as one item, sold as one or more SKUs.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Sku',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='skus', on_delete=OnDelete.CASCADE)),
                ('sku_code', fields.CharField(unique=True, max_length=64)),
                ('specs', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('price', fields.IntField()),
                ('market_price', fields.IntField(default=0)),
                ('stock', fields.IntField(default=0)),
                ('weight_g', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'sku', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One buyable combination of spec values, with its own price and stock.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=64)),
                ('password_hash', fields.CharField(max_length=255)),
                ('role', fields.CharEnumField(description='PLATFORM_ADMIN: platform_admin\nMERCHANT_OWNER: merchant_owner\nMERCHANT_STAFF: merchant_staff\nAGENT: agent\nFINANCE: finance', enum_type=StaffRole, max_length=32)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', null=True, db_constraint=True, to_field='id', related_name='staff', on_delete=OnDelete.RESTRICT)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'staff_account', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A person who works in the admin web.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('openid', fields.CharField(unique=True, max_length=64)),
                ('unionid', fields.CharField(null=True, unique=True, max_length=64)),
                ('nickname', fields.CharField(default='', max_length=64)),
                ('avatar_url', fields.CharField(default='', max_length=500)),
                ('phone', fields.CharField(default='', max_length=20)),
                ('phone_country_code', fields.CharField(default='', max_length=8)),
                ('session_version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_login_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'user', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A shopper, keyed by the mini-program openid, linked to the official account by unionid.'},
            bases=['Model'],
        ),
    ]
