from enum import StrEnum


class ConversationStatus(StrEnum):
    WAITING = "waiting"  # the follower asked for a person; no agent has taken it yet
    ACTIVE = "active"  # an agent took it (by claiming, replying or a transfer)
    CLOSED = "closed"  # ended by an agent, or expired after its idle time: final


OPEN_STATUSES = (ConversationStatus.WAITING, ConversationStatus.ACTIVE)

ALLOWED_TRANSITIONS: dict[ConversationStatus, set[ConversationStatus]] = {
    ConversationStatus.WAITING: {ConversationStatus.ACTIVE, ConversationStatus.CLOSED},
    # active -> active is a transfer to another agent
    ConversationStatus.ACTIVE: {ConversationStatus.ACTIVE, ConversationStatus.CLOSED},
    ConversationStatus.CLOSED: set(),
}


class EventType(StrEnum):
    OPENED = "opened"  # the follower asked for a person (params: reason)
    CLAIMED = "claimed"  # an agent took a waiting conversation
    TRANSFERRED = "transferred"  # handed to another agent
    CLOSED = "closed"  # ended by someone
    EXPIRED = "expired"  # closed by the system after its idle time


class Direction(StrEnum):
    IN = "in"  # from the follower
    OUT = "out"  # to the follower: from an agent, or the bot's own answer (no agent)
    SYSTEM = "system"  # a note of ours, never sent


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VOICE = "voice"
    VIDEO = "video"
    LOCATION = "location"
    LINK = "link"
    EVENT = "event"  # a menu click, a subscription: content describes it
    OTHER = "other"  # a kind WeChat added that we do not read (a file, a mini-program card)
