"""Shoppers, as platform staff and agents look them up: masked unless revealed (recorded)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.orders import STATUS_TEXT
from admin_web.security import path_id, session_for
from commerce import clock
from commerce.money import fen_to_yuan
from commerce.orders.queries import list_orders
from commerce.staff.permissions import Permission, can, require
from commerce.users import directory
from commerce.users.services import Shopper

ORDERS_SHOWN = 20


@aiohttp_jinja2.template("users.html")
async def search(request: web.Request) -> dict[str, Any]:
    require(session_for(request).staff, Permission.USERS)
    text = request.query.get("q", "")[:64]
    return {
        "active": "users",
        "q": text,
        "users": await directory.search_shoppers(text=text),
        "shown": _shown,
    }


async def profile(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.USERS)
    return await _render(request, path_id(request), phone="")


async def reveal(request: web.Request) -> web.Response:
    session = session_for(request)
    require(session.staff, Permission.REVEAL_PII)
    user_id = path_id(request)
    phone = await directory.reveal_phone(user_id=user_id, actor=session.staff.actor)
    return await _render(request, user_id, phone=phone or "（未绑定）")


async def _render(request: web.Request, user_id: int, *, phone: str) -> web.Response:
    staff = session_for(request).staff
    profile = await directory.shopper_profile(user_id=user_id)
    shopper = Shopper(user_id=profile.summary.id, openid=profile.summary.openid)
    context = {
        "active": "users",
        "profile": profile,
        "orders": await list_orders(shopper=shopper, page_size=ORDERS_SHOWN),
        "statuses": STATUS_TEXT,
        "yuan": fen_to_yuan,
        "phone": phone,
        "may_reveal": can(staff, Permission.REVEAL_PII),
        "shown": _shown,
    }
    return aiohttp_jinja2.render_template("user.html", request, context)


def _shown(moment) -> str:
    return clock.to_shanghai(moment).strftime("%Y-%m-%d %H:%M") if moment else ""
