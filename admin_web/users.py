"""Shoppers, as staff look them up (a merchant's people: its customers only): masked unless
revealed (recorded)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.orders import STATUS_TEXT, shown
from admin_web.security import path_id, session_for
from commerce.money import fen_to_yuan
from commerce.orders.backoffice import customers_among, merchants_part
from commerce.orders.queries import list_orders
from commerce.staff.auth import Staff
from commerce.staff.permissions import Permission, can, require
from commerce.users import directory
from commerce.users.services import Shopper

ORDERS_SHOWN = 20


@aiohttp_jinja2.template("users.html")
async def search(request: web.Request) -> dict[str, Any]:
    staff = session_for(request).staff
    require(staff, Permission.USERS)
    text = request.query.get("q", "")[:64]
    return {
        "active": "users",
        "q": text,
        "users": await directory.search_shoppers(text=text, keep=_customers_only(staff)),
        "shown": shown,
    }


async def profile(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.USERS)
    user_id = path_id(request)
    await _require_customer(staff, user_id)
    return await _render(request, user_id, phone="")


async def reveal(request: web.Request) -> web.Response:
    session = session_for(request)
    require(session.staff, Permission.REVEAL_PII)
    user_id = path_id(request)
    await _require_customer(session.staff, user_id)
    phone = await directory.reveal_phone(user_id=user_id, actor=session.staff.actor)
    return await _render(request, user_id, phone=phone or "（未绑定）")


async def _render(request: web.Request, user_id: int, *, phone: str) -> web.Response:
    staff = session_for(request).staff
    profile = await directory.shopper_profile(user_id=user_id)
    shopper = Shopper(user_id=profile.summary.id, openid=profile.summary.openid)
    if staff.merchant_id is None:
        orders = await list_orders(shopper=shopper, page_size=ORDERS_SHOWN)
    else:  # a merchant sees only its own orders (of the customer's last 200)
        orders = await list_orders(shopper=shopper, page_size=200)
        # and of each only its own lines' money
        items = merchants_part(
            [o for o in orders.items if o.merchant_id == staff.merchant_id], staff.merchant_id
        )
        orders = replace(orders, items=items[:ORDERS_SHOWN], total=len(items))
    context = {
        "active": "users",
        "profile": profile,
        "orders": orders,
        "statuses": STATUS_TEXT,
        "yuan": fen_to_yuan,
        "phone": phone,
        "may_reveal": can(staff, Permission.REVEAL_PII),
        "shown": shown,
    }
    return aiohttp_jinja2.render_template("user.html", request, context)


def _customers_only(staff: Staff) -> directory.Keep | None:
    """Whom the staff member may look up: everyone (None) for the platform, a merchant's
    customers for its people."""
    return None if staff.merchant_id is None else partial(customers_among, staff.merchant_id)


async def _require_customer(staff: Staff, user_id: int) -> None:
    keep = _customers_only(staff)
    if keep is not None and user_id not in await keep({user_id}):
        raise web.HTTPNotFound()  # as for a shopper who does not exist
