"""Mini-program subscribe messages: the acceptances each shopper gave and we have not used.
(The enum fields' descriptions the generator also wanted to alter are comments only: left.)"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0021_referrals')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SubscribeCredit',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='subscribe_credits', on_delete=OnDelete.CASCADE)),
                ('template_id', fields.CharField(max_length=64)),
                ('credits', fields.IntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'subscribe_credit', 'app': 'models', 'unique_together': (('user', 'template_id'),), 'pk_attr': 'id', 'table_description': 'The mini-program subscribe messages a shopper accepted and we have not sent yet, per'},
            bases=['Model'],
        ),
    ]
