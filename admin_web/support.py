"""The customer-service inbox: conversations the bot handed to people. An agent takes one
(接入), answers it through WeChat's customer-service messages, hands it on (转接) or ends it
(结束). Pages work by reload; with JavaScript they update themselves (support_live)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web import canned_replies, support_live
from admin_web.keys import CORE
from admin_web.orders import STATUS_TEXT as ORDER_STATUS_TEXT
from admin_web.security import path_id, session_for
from commerce.errors import CommerceError, ErrorKind
from commerce.money import fen_to_yuan
from commerce.staff.auth import Staff
from commerce.staff.permissions import Permission, can, require
from commerce.staff.states import StaffRole
from commerce.support import agents, conversations
from commerce.support.canned import get_canned_reply, list_canned_replies
from commerce.support.queries import (
    LONG_WAIT_SECONDS,
    EventView,
    MessageView,
    count_waiting,
    list_conversations,
    read_conversation,
)
from commerce.support.shopper import shopper_panel
from commerce.support.states import ConversationStatus

STATUS_TEXT = support_live.STATUS_TEXT
STATUS_BY_KIND = {ErrorKind.INVALID: 400, ErrorKind.UNAVAILABLE: 503}  # else 409: state said no

__all__ = ["LONG_WAIT_SECONDS", "add_routes"]


def add_routes(router: web.UrlDispatcher) -> None:
    # The fixed paths first: /support/{id} would take "canned", "stream" and "rows" for ids.
    canned_replies.add_routes(router)
    support_live.add_routes(router)
    router.add_get("/support", inbox)
    router.add_get("/support/rows", rows)
    router.add_get("/support/{id}", conversation)
    router.add_post("/support/{id}/reply", reply)
    router.add_post("/support/{id}/claim", claim)
    router.add_post("/support/{id}/transfer", transfer)
    router.add_post("/support/{id}/close", close)


@aiohttp_jinja2.template("inbox.html")
async def inbox(request: web.Request) -> dict[str, Any]:
    require(session_for(request).staff, Permission.CONVERSATIONS)
    return await _inbox_context(request)


@aiohttp_jinja2.template("support_rows.html")
async def rows(request: web.Request) -> dict[str, Any]:
    """The inbox's rows alone, for the live page to swap in."""
    require(session_for(request).staff, Permission.CONVERSATIONS)
    return await _inbox_context(request)


async def _inbox_context(request: web.Request) -> dict[str, Any]:
    status = request.query.get("status", "waiting")
    if status not in STATUS_TEXT:
        status = "waiting"
    page = await list_conversations(status=status, page_size=50)
    return {
        "active": "support",
        "status": status,
        "statuses": STATUS_TEXT,
        "items": page.items,
        "total": page.total,
        "waiting": page.total if status == "waiting" else await count_waiting(),
        "names": await agents.staff_names(),
        "long_wait": LONG_WAIT_SECONDS,
        "shown": support_live.shown,
    }


async def conversation(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.CONVERSATIONS)
    return await _render(request, path_id(request), error="")


async def reply(request: web.Request) -> web.Response:
    staff = _agent(request)
    conversation_id = path_id(request)
    form = await request.post()
    text = str(form.get("text", "")).strip()
    canned_id = str(form.get("canned_id", ""))
    # Without JavaScript the canned reply picked in the list is the reply (typed text wins).
    if not text and canned_id.isascii() and canned_id.isdigit() and len(canned_id) < 12:
        try:
            text = (await get_canned_reply(canned_id=int(canned_id))).text
        except CommerceError as error:  # deleted meanwhile: say so on the conversation's page
            return await _render(request, conversation_id, error=error.message, draft="", status=409)
    return await _act(
        request,
        conversation_id,
        conversations.reply(
            conversation_id=conversation_id,
            agent_id=staff.id,
            text=text,
            wechat=request.app[CORE].mp,
            supervisor=_supervises(staff),
        ),
        draft=text,
    )


async def claim(request: web.Request) -> web.Response:
    staff = _agent(request)
    conversation_id = path_id(request)
    return await _act(
        request, conversation_id, conversations.claim(conversation_id=conversation_id, agent_id=staff.id)
    )


async def transfer(request: web.Request) -> web.Response:
    staff = _agent(request)
    conversation_id = path_id(request)
    target = str((await request.post()).get("agent_id", ""))
    moved = conversations.transfer(
        conversation_id=conversation_id,
        to_agent_id=int(target) if target.isascii() and target.isdigit() and len(target) < 12 else 0,
        actor=staff.actor,
    )
    return await _act(request, conversation_id, moved)


async def close(request: web.Request) -> web.Response:
    staff = _agent(request)
    conversation_id = path_id(request)
    closing = conversations.close(
        conversation_id=conversation_id, actor=staff.actor, agent_id=staff.id, supervisor=_supervises(staff)
    )
    return await _act(request, conversation_id, closing, done="/admin/support")


async def _act(request: web.Request, conversation_id: int, action, *, done: str = "", draft: str = ""):
    """Run the action; back to the conversation (or `done`), or its page saying why not."""
    try:
        await action
    except CommerceError as error:
        if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
            raise
        status = STATUS_BY_KIND.get(error.kind, 409)
        return await _render(request, conversation_id, error=error.message, status=status, draft=draft)
    raise web.HTTPFound(done or f"/admin/support/{conversation_id}")


def _agent(request: web.Request) -> Staff:
    staff = session_for(request).staff
    require(staff, Permission.CONVERSATIONS)
    return staff


def _supervises(staff: Staff) -> bool:
    """The platform admin may answer or end any conversation; an agent only the ones they hold."""
    return staff.role is StaffRole.PLATFORM_ADMIN


@dataclass(frozen=True)
class Entry:
    """A line of the conversation's timeline: a message, or a change of hands."""

    at: datetime
    message: MessageView | None = None
    note: str = ""


async def _render(
    request: web.Request, conversation_id: int, *, error: str, status: int = 200, draft: str = ""
) -> web.Response:
    staff = session_for(request).staff
    detail = await read_conversation(conversation_id=conversation_id)
    names = await agents.staff_names()
    current = detail.conversation
    is_open = current.status is not ConversationStatus.CLOSED
    holds = current.status is ConversationStatus.WAITING or current.agent_id == staff.id
    context = {
        "active": "support",
        "detail": detail,
        "c": current,
        "timeline": _timeline(detail.messages, detail.events, names),
        "position": f"{detail.messages[-1].id if detail.messages else 0}."
        f"{detail.events[-1].id if detail.events else 0}",
        "statuses": STATUS_TEXT,
        "holder": names.get(current.agent_id or 0, ""),
        "is_open": is_open,
        "may_speak": is_open and (holds or _supervises(staff)),
        "agents": [agent for agent in await agents.list_agents() if agent.id != current.agent_id],
        "me": staff.id,
        "canned": await list_canned_replies(),
        "panel": await shopper_panel(openid=current.openid, user_id=current.user_id),
        "may_see_users": can(staff, Permission.USERS),
        "may_see_orders": can(staff, Permission.ORDERS),
        "order_statuses": ORDER_STATUS_TEXT,
        "long_wait": LONG_WAIT_SECONDS,
        "error": error,
        "draft": draft,
        "yuan": fen_to_yuan,
        "shown": support_live.shown,
        "sender": lambda message: support_live.sender_of(message, names),
    }
    return aiohttp_jinja2.render_template("conversation.html", request, context, status=status)


def _timeline(messages: list[MessageView], events: list[EventView], names: dict[int, str]) -> list[Entry]:
    entries = [
        (e.created_at, 0, e.id, Entry(e.created_at, note=support_live.note_of(e, names))) for e in events
    ]
    entries += [(m.created_at, 1, m.id, Entry(m.created_at, message=m)) for m in messages]
    return [entry for *_, entry in sorted(entries, key=lambda e: e[:3])]
