"""Issue 13, leaders (h2): leaders' official-account QR codes, bindings waiting for a sign-in,
and an index on pickup points' coordinates for the nearest points."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0016_community')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LeaderQrCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('leader_id', fields.IntField(unique=True)),
                ('scene', fields.CharField(max_length=64)),
                ('ticket', fields.CharField(max_length=200)),
                ('url', fields.CharField(max_length=500)),
                ('image_url', fields.CharField(max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'community_leader_qrcode', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The parametric official-account QR code of a leader (scene leader_CODE), made once at'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PendingLeaderBinding',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('unionid', fields.CharField(unique=True, max_length=64)),
                ('leader_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'community_pending_binding', 'app': 'models', 'pk_attr': 'id', 'table_description': "A follower who scanned the QR code of a leader before they signed in to the mini-program:"},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='PickupPoint',
            index=Index(fields=['latitude', 'longitude']),
        ),
    ]
