"""The customer-service inbox: conversations the bot handed to people. An agent claims one,
answers (through WeChat's customer-service messages), and closes it."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.keys import CORE
from admin_web.security import path_id, session_for
from commerce import clock
from commerce.errors import CommerceError
from commerce.staff.permissions import Permission, require
from commerce.support import conversations
from commerce.support.queries import list_conversations, read_conversation

LONG_WAIT_SECONDS = 5 * 60  # a waiting conversation older than this is highlighted

STATUS_TEXT = {"waiting": "待接入", "active": "处理中", "closed": "已结束"}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/support", inbox)
    router.add_get("/support/{id}", conversation)
    router.add_post("/support/{id}/reply", reply)
    router.add_post("/support/{id}/close", close)


@aiohttp_jinja2.template("inbox.html")
async def inbox(request: web.Request) -> dict[str, Any]:
    require(session_for(request).staff, Permission.CONVERSATIONS)
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
        "long_wait": LONG_WAIT_SECONDS,
        "shown": _shanghai,
    }


async def conversation(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.CONVERSATIONS)
    return await _render(request, path_id(request), error="")


async def reply(request: web.Request) -> web.Response:
    session = session_for(request)
    require(session.staff, Permission.CONVERSATIONS)
    conversation_id = path_id(request)
    form = await request.post()
    try:
        await conversations.reply(
            conversation_id=conversation_id,
            agent_id=session.staff.id,
            text=str(form.get("text", "")),
            wechat=request.app[CORE].mp,
        )
    except CommerceError as error:
        if error.kind.value == "not_found":
            raise
        return await _render(request, conversation_id, error=error.message, status=409)
    raise web.HTTPFound(f"/admin/support/{conversation_id}")


async def close(request: web.Request) -> web.Response:
    session = session_for(request)
    require(session.staff, Permission.CONVERSATIONS)
    conversation_id = path_id(request)
    try:
        await conversations.close(conversation_id=conversation_id, actor=session.staff.actor)
    except CommerceError as error:
        if error.kind.value == "not_found":
            raise
        return await _render(request, conversation_id, error=error.message, status=409)
    raise web.HTTPFound("/admin/support")


async def _render(
    request: web.Request, conversation_id: int, *, error: str, status: int = 200
) -> web.Response:
    detail = await read_conversation(conversation_id=conversation_id)
    context = {
        "active": "support",
        "detail": detail,
        "statuses": STATUS_TEXT,
        "error": error,
        "shown": _shanghai,
    }
    return aiohttp_jinja2.render_template("conversation.html", request, context, status=status)


def _shanghai(moment) -> str:
    return clock.to_shanghai(moment).strftime("%m-%d %H:%M") if moment else ""
