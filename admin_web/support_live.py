"""The live inbox: Server-Sent Events for the inbox (which conversations changed, how many wait)
and for one conversation (its new messages and history, as they commit).

Events come through Redis pub/sub from whichever process made the change (commerce.support.live);
what they say is read from the database, so a stream that reconnects (Last-Event-ID, or
?since= on the first connection) is sent everything it missed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from admin_web.keys import COOKIE, CORE
from admin_web.security import path_id, session_for
from commerce import clock
from commerce.staff.auth import session_of
from commerce.staff.permissions import Permission, require
from commerce.support import agents, lifecycle, live
from commerce.support.queries import (
    EventView,
    MessageView,
    count_waiting,
    events_after,
    get_conversation,
    latest_ids,
    messages_after,
)
from commerce.support.states import Direction, EventType

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0  # a comment line keeps proxies from closing a quiet stream
POLL_SECONDS = 1.0  # how soon a stream notices its client left
# A stream ends after this and the browser reconnects (losing nothing): no stream outlives a
# signed-out session or a restart by long.
STREAM_SECONDS = 300.0
RETRY_MILLISECONDS = 3000

# Set by close_streams: each open stream ends within POLL_SECONDS (a restart need not wait).
_stops: set[asyncio.Event] = set()

STATUS_TEXT = {status.value: text for status, text in lifecycle.STATUS_TEXT.items()}
REASON_TEXT = {"keyword": "关键词", "faq_miss": "机器人未能解答", "menu": "菜单"}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/support/stream", inbox_stream)
    router.add_get("/support/{id}/stream", conversation_stream)


async def close_streams(app: web.Application) -> None:
    """End every open stream now (for the app's on_shutdown: aiohttp otherwise waits for
    them); the browsers reconnect to the next process."""
    for stop in list(_stops):
        stop.set()


async def inbox_stream(request: web.Request) -> web.StreamResponse:
    """`inbox` events: a conversation changed (kind, conversation_id) and how many wait now."""
    require(session_for(request).staff, Permission.CONVERSATIONS)
    async with live.Subscription(request.app[CORE].redis) as events:
        response = await _open(request)

        async def tell(event: live.LiveEvent | None) -> None:
            kind, conversation_id = ("hello", None) if event is None else (event.kind, event.conversation_id)
            data = {"kind": kind, "conversation_id": conversation_id, "waiting": await count_waiting()}
            await _send(response, "inbox", data)

        await _run(request, response, events, tell, greet=True)
    return response


async def conversation_stream(request: web.Request) -> web.StreamResponse:
    """`message` events (id: where the stream stands, for a reconnect) and `note` events (a
    change of status or agent, with the conversation's status after it)."""
    require(session_for(request).staff, Permission.CONVERSATIONS)
    conversation_id = path_id(request)
    await get_conversation(conversation_id=conversation_id)  # 404 before the stream opens
    # Subscribed before reading what was missed: whatever commits after the read is announced.
    async with live.Subscription(request.app[CORE].redis, conversation_id) as events:
        since = _position(request) or await latest_ids(conversation_id=conversation_id)
        response = await _open(request)
        stream = _ConversationStream(response, conversation_id, since)
        await _run(request, response, events, lambda _: stream.catch_up(), greet=True)
    return response


class _ConversationStream:
    def __init__(self, response: web.StreamResponse, conversation_id: int, since: tuple[int, int]) -> None:
        self.response, self.conversation_id = response, conversation_id
        self.message_id, self.event_id = since

    async def catch_up(self) -> None:
        """Send what committed since the stream's position, in the order it happened."""
        messages = await messages_after(conversation_id=self.conversation_id, after_id=self.message_id)
        notes = await events_after(conversation_id=self.conversation_id, after_id=self.event_id)
        if not messages and not notes:
            return
        names = await agents.staff_names()
        now = await get_conversation(conversation_id=self.conversation_id) if notes else None
        # A change and a message of the same instant: the change first (a claim, then the reply).
        timeline = sorted(
            [(note.created_at, 0, note) for note in notes] + [(m.created_at, 1, m) for m in messages],
            key=lambda entry: (entry[0], entry[1], entry[2].id),
        )
        for _, _, item in timeline:
            if isinstance(item, MessageView):
                self.message_id = item.id
                await _send(self.response, "message", message_data(item, names), event_id=self.position)
                continue
            self.event_id = item.id
            data = note_data(item, names) | {
                "status": now.status.value,
                "status_text": STATUS_TEXT.get(now.status.value, ""),
                "agent": names.get(now.agent_id, "") if now.agent_id else "",
            }
            await _send(self.response, "note", data, event_id=self.position)

    @property
    def position(self) -> str:
        return f"{self.message_id}.{self.event_id}"


def message_data(message: MessageView, names: dict[int, str]) -> dict[str, Any]:
    """A message as the page shows it (the browser puts each field in as text)."""
    return {
        "id": message.id,
        "direction": message.direction.value,
        "sender": sender_of(message, names),
        "content": message.content,
        "at": shown(message.created_at),
        "failed": message.delivery.startswith("failed"),
    }


def note_data(event: EventView, names: dict[int, str]) -> dict[str, Any]:
    return {"id": event.id, "text": note_of(event, names), "at": shown(event.created_at)}


def sender_of(message: MessageView, names: dict[int, str]) -> str:
    if message.direction is Direction.IN:
        return "粉丝"
    if message.agent_id is None:
        return "机器人"
    return f"客服 {names.get(message.agent_id, '#' + str(message.agent_id))}"


def note_of(event: EventView, names: dict[int, str]) -> str:
    """One line of the conversation's history: who did what."""
    actor, to = _who(event.actor, names), names.get(event.to_agent_id or 0, "")
    if event.type is EventType.OPENED:
        reason = REASON_TEXT.get(str(event.params.get("reason", "")), "")
        return "粉丝请求人工客服" + (f"（{reason}）" if reason else "")
    if event.type is EventType.CLAIMED:
        return f"{to or actor} 接入了会话"
    if event.type is EventType.TRANSFERRED:
        before = names.get(event.from_agent_id or 0, "")
        if event.actor == f"staff:{event.to_agent_id}":
            return f"{to} 接手了会话" + (f"（原接待：{before}）" if before else "")
        return f"{actor} 将会话转接给 {to}"
    if event.type is EventType.EXPIRED:
        return "会话长时间无消息，已自动结束"
    return f"{actor} 结束了会话"


def shown(moment) -> str:
    return clock.to_shanghai(moment).strftime("%m-%d %H:%M") if moment else ""


def _who(actor: str, names: dict[int, str]) -> str:
    if actor.startswith("staff:") and actor[6:].isdigit():
        return names.get(int(actor[6:]), actor)
    return "粉丝" if actor == "follower" else "系统"


def _position(request: web.Request) -> tuple[int, int] | None:
    """Where the client stands: Last-Event-ID (a reconnect) or ?since= ("message.event", or a
    message id alone); None: from now on."""
    raw = request.headers.get("Last-Event-ID") or request.query.get("since", "")
    message, _, event = raw.strip().partition(".")
    if not message.isascii() or not message.isdigit() or len(message) > 18:
        return None
    event = event if event.isascii() and event.isdigit() and len(event) <= 18 else "0"
    return int(message), int(event)


async def _open(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "X-Accel-Buffering": "no",  # nginx: pass events on at once
        }
    )
    await response.prepare(request)
    await response.write(f"retry: {RETRY_MILLISECONDS}\n\n".encode())
    return response


async def _send(
    response: web.StreamResponse, event: str, data: dict[str, Any], *, event_id: str | None = None
) -> None:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    # json.dumps escapes newlines: the data is always one line.
    lines.append("data: " + json.dumps(data, ensure_ascii=False))
    await response.write(("\n".join(lines) + "\n\n").encode())


async def _run(
    request: web.Request,
    response: web.StreamResponse,
    events: live.Subscription,
    tell: Callable[[live.LiveEvent | None], Awaitable[None]],
    *,
    greet: bool,
) -> None:
    """Tell the client of each event (and once at the start, with None, when `greet`) until
    it leaves, its session ends, or the stream has run its time; heartbeats in between."""
    started = beat = time.monotonic()
    stop = asyncio.Event()
    _stops.add(stop)
    try:
        if greet:
            await tell(None)
        while time.monotonic() - started < STREAM_SECONDS and not stop.is_set():
            if request.transport is None or request.transport.is_closing():
                return
            until_beat = HEARTBEAT_SECONDS - (time.monotonic() - beat)
            event = await events.next(max(0.01, min(POLL_SECONDS, until_beat)))
            if event is not None:
                await tell(event)
            if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                beat = time.monotonic()
                if not await _still_signed_in(request):
                    return
                await response.write(b": ping\n\n")
    except ConnectionError:
        return  # the client left mid-write
    except Exception:  # a stream ends quietly (the browser reconnects), never with a page
        log.exception("support stream ended by an error: %s", request.path)
    finally:
        _stops.discard(stop)


async def _still_signed_in(request: web.Request) -> bool:
    session = await session_of(token=request.cookies.get(COOKIE, ""), redis_client=request.app[CORE].redis)
    return session is not None and session.staff.id == session_for(request).staff.id
