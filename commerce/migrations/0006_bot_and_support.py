from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from commerce.support.states import ConversationStatus, Direction, EventType, MessageType
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_payments')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Conversation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('openid', fields.CharField(db_index=True, max_length=64)),
                ('open_key', fields.CharField(null=True, unique=True, max_length=64)),
                ('user_id', fields.IntField(null=True)),
                ('status', fields.CharEnumField(default=ConversationStatus.WAITING, description='WAITING: waiting\nACTIVE: active\nCLOSED: closed', enum_type=ConversationStatus, max_length=16)),
                ('agent_id', fields.IntField(null=True)),
                ('reason', fields.CharField(max_length=32)),
                ('opened_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_activity_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_by', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'support_conversation', 'app': 'models', 'indexes': [Index(fields=['status', 'last_activity_at']), Index(fields=['openid', 'status'])], 'pk_attr': 'id', 'table_description': 'A follower talking with human agents, from asking for one until closed or idle.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConversationEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation', fields.ForeignKeyField('models.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharEnumField(description='OPENED: opened\nCLAIMED: claimed\nTRANSFERRED: transferred\nCLOSED: closed\nEXPIRED: expired', enum_type=EventType, max_length=16)),
                ('actor', fields.CharField(max_length=64)),
                ('from_status', fields.CharField(default='', max_length=16)),
                ('to_status', fields.CharField(default='', max_length=16)),
                ('from_agent_id', fields.IntField(null=True)),
                ('to_agent_id', fields.IntField(null=True)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'support_conversation_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Append-only history of a conversation: opened, claimed, transferred, closed, by whom.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConversationMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation', fields.ForeignKeyField('models.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('direction', fields.CharEnumField(description='IN: in\nOUT: out\nSYSTEM: system', enum_type=Direction, max_length=8)),
                ('msg_type', fields.CharEnumField(description='TEXT: text\nIMAGE: image\nVOICE: voice\nVIDEO: video\nLOCATION: location\nLINK: link\nEVENT: event', enum_type=MessageType, max_length=16)),
                ('content', fields.TextField(unique=False)),
                ('wechat_msg_id', fields.CharField(default='', max_length=64)),
                ('dedupe_key', fields.CharField(null=True, max_length=64)),
                ('agent_id', fields.IntField(null=True)),
                ('delivery', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'support_message', 'app': 'models', 'unique_together': (('conversation_id', 'dedupe_key'),), 'pk_attr': 'id', 'table_description': 'One message of a conversation, in either direction. Append-only.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FaqEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('merchant_id', fields.IntField(null=True)),
                ('question', fields.CharField(max_length=120)),
                ('variants', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('answer', fields.CharField(max_length=1000)),
                ('enabled', fields.BooleanField(default=True)),
                ('updated_by', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'faq_entry', 'app': 'models', 'indexes': [Index(fields=['merchant_id', 'enabled'])], 'pk_attr': 'id', 'table_description': 'A question followers ask, its other phrasings and the answer the bot gives.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Follower',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('openid', fields.CharField(unique=True, max_length=64)),
                ('unionid', fields.CharField(null=True, db_index=True, max_length=64)),
                ('subscribed', fields.BooleanField(default=True)),
                ('subscribed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('unsubscribed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('first_scene', fields.CharField(default='', max_length=64)),
                ('location', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mp_follower', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A follower of the official account. Its openid belongs to that account alone: the shopper behind'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FollowerTouch',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('openid', fields.CharField(db_index=True, max_length=64)),
                ('kind', fields.CharField(max_length=16)),
                ('scene', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mp_follower_touch', 'app': 'models', 'indexes': [Index(fields=['scene', 'created_at'])], 'pk_attr': 'id', 'table_description': 'An attribution touch-point: a follow or a scan through a parametric QR code scene, raw.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TemplateReport',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('msg_id', fields.CharField(db_index=True, max_length=32)),
                ('openid', fields.CharField(max_length=64)),
                ('status', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mp_template_report', 'app': 'models', 'pk_attr': 'id', 'table_description': 'What WeChat reported on a template message it sent (TEMPLATESENDJOBFINISH).'},
            bases=['Model'],
        ),
    ]
