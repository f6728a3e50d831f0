from tortoise import migrations
from tortoise.migrations import operations as ops
from commerce.support.states import MessageType
from tortoise import fields

from commerce.migration_tools import restore_indexes

# The AlterField below rebuilds the table on SQLite, dropping the unique index that keeps a
# message WeChat repeats from being stored twice.
INDEXES = {"support_message": [(["conversation_id", "dedupe_key"], True)]}

class Migration(migrations.Migration):
    dependencies = [('models', '0008_admin_web')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='ConversationMessage',
            name='msg_type',
            field=fields.CharEnumField(description='TEXT: text\nIMAGE: image\nVOICE: voice\nVIDEO: video\nLOCATION: location\nLINK: link\nEVENT: event\nOTHER: other', enum_type=MessageType, max_length=16),
        ),
        ops.RunPython(restore_indexes(INDEXES), ops.RunPython.noop),
    ]
