"""Customer service: the FAQ knowledge base and conversations between followers and agents."""

from tortoise import fields
from tortoise.models import Model

from commerce.support.states import ConversationStatus, Direction, EventType, MessageType


class FaqEntry(Model):
    """A question followers ask, its other phrasings and the answer the bot gives."""

    id = fields.IntField(primary_key=True)
    merchant_id = fields.IntField(null=True)  # null: platform-wide
    question = fields.CharField(max_length=120)  # the canonical phrasing
    variants: list = fields.JSONField(default=list)  # other phrasings of the same question
    answer = fields.CharField(max_length=1000)
    enabled = fields.BooleanField(default=True)
    updated_by = fields.CharField(max_length=64, default="")  # "staff:3", "system:seed"
    # Every change stamps it: matchers in every process reload when the newest one moves.
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "faq_entry"
        indexes = (("merchant_id", "enabled"),)


class Conversation(Model):
    """A follower talking with human agents, from asking for one until closed or idle."""

    id = fields.IntField(primary_key=True)
    openid = fields.CharField(max_length=64, db_index=True)  # of the official account
    # The openid while the conversation is open, null once closed: the unique index lets each
    # follower have one open conversation however many requests race to open it.
    open_key = fields.CharField(max_length=64, null=True, unique=True)
    user_id = fields.IntField(null=True)  # the shopper, when the follower is linked to one
    status = fields.CharEnumField(ConversationStatus, max_length=16, default=ConversationStatus.WAITING)
    agent_id = fields.IntField(null=True)  # the staff account handling it
    reason = fields.CharField(max_length=32)  # why it opened: keyword, faq_miss, menu
    opened_at = fields.DatetimeField()
    last_activity_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)
    closed_by = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "support_conversation"
        indexes = (("status", "last_activity_at"), ("openid", "status"))


class ConversationMessage(Model):
    """One message of a conversation, in either direction. Append-only."""

    id = fields.BigIntField(primary_key=True)
    conversation = fields.ForeignKeyField(
        "models.Conversation", related_name="messages", on_delete=fields.CASCADE
    )
    direction = fields.CharEnumField(Direction, max_length=8)
    msg_type = fields.CharEnumField(MessageType, max_length=16)
    content = fields.TextField()  # the text, or a short description of other kinds
    wechat_msg_id = fields.CharField(max_length=64, default="")
    # wechat_msg_id when there is one, else null: WeChat repeats a message it thinks we missed.
    dedupe_key = fields.CharField(max_length=64, null=True)
    agent_id = fields.IntField(null=True)  # who sent an outgoing message
    delivery = fields.CharField(max_length=200, default="")  # outgoing: sent, or failed: reason
    created_at = fields.DatetimeField()

    class Meta:
        table = "support_message"
        unique_together = (("conversation_id", "dedupe_key"),)


class ConversationEvent(Model):
    """Append-only history of a conversation: opened, claimed, transferred, closed, by whom."""

    id = fields.BigIntField(primary_key=True)
    conversation = fields.ForeignKeyField(
        "models.Conversation", related_name="events", on_delete=fields.CASCADE
    )
    type = fields.CharEnumField(EventType, max_length=16)
    actor = fields.CharField(max_length=64)  # "follower", "staff:3", "system:scheduler"
    from_status = fields.CharField(max_length=16, default="")
    to_status = fields.CharField(max_length=16, default="")
    from_agent_id = fields.IntField(null=True)
    to_agent_id = fields.IntField(null=True)
    params: dict = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "support_conversation_event"


class CannedReply(Model):
    """A reply agents keep at hand (快捷回复): picked on the conversation page, sent as typed."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=30)  # what the agent picks it by
    text = fields.CharField(max_length=600)  # what the follower receives
    sort = fields.IntField(default=0)  # smaller first
    created_by = fields.CharField(max_length=64)  # "staff:3"
    updated_by = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "support_canned_reply"
