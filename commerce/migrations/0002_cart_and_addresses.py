from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Address',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='addresses', on_delete=OnDelete.CASCADE)),
                ('receiver_name', fields.CharField(max_length=32)),
                ('phone', fields.CharField(max_length=20)),
                ('province', fields.CharField(max_length=32)),
                ('city', fields.CharField(max_length=32)),
                ('district', fields.CharField(max_length=32)),
                ('detail', fields.CharField(max_length=120)),
                ('is_default', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'address', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Where a shopper wants things delivered.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CartItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='cart_items', on_delete=OnDelete.CASCADE)),
                ('sku', fields.ForeignKeyField('models.Sku', source_field='sku_id', db_constraint=True, to_field='id', related_name='cart_items', on_delete=OnDelete.CASCADE)),
                ('quantity', fields.IntField()),
                ('selected', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'cart_item', 'app': 'models', 'unique_together': (('user_id', 'sku_id'),), 'pk_attr': 'id', 'table_description': 'One SKU in the cart of a shopper. Adding the same SKU again raises the quantity.'},
            bases=['Model'],
        ),
    ]
