"""拼团 deals: a merchant's people create, edit and end their merchant's deals (the
platform's people any merchant's), and follow each deal's groups: status, members (masked)
and their orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.security import path_id, read_form, session_for
from commerce import clock
from commerce.errors import CommerceError, ErrorKind
from commerce.groupbuy import backoffice, deals
from commerce.groupbuy.errors import GroupBuyError
from commerce.money import fen_to_yuan, yuan_to_fen
from commerce.staff.permissions import Permission, require

FIELDS = (
    "title",
    "prices",
    "group_size",
    "time_limit_minutes",
    "per_shopper_limit",
    "starts_at",
    "ends_at",
    "least",
)
DEAL_STATUS = {"active": "进行中", "ended": "已结束"}
GROUP_STATUS = {"forming": "拼团中", "succeeded": "已成团", "failed": "未成团（已退款）"}
SEAT_STATUS = {"held": "待支付", "paid": "已支付", "lapsed": "已释放", "refunded": "已退款"}
ACTIVE = "group-deals"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/group-deals", list_page)
    router.add_get("/group-deals/new", new_page)
    router.add_post("/group-deals", create)
    router.add_get("/group-deals/{id}", deal_page)
    router.add_post("/group-deals/{id}", save)
    router.add_post("/group-deals/{id}/end", end)


async def list_page(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.PRODUCTS)
    rows = await backoffice.staff_deals(merchant_id=staff.merchant_id)
    context = {"active": ACTIVE, "rows": rows, "statuses": DEAL_STATUS, "shanghai": clock.to_shanghai}
    return aiohttp_jinja2.render_template("group_deals.html", request, context)


async def new_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.PRODUCTS)
    now = clock.to_shanghai(clock.now())
    form = {
        **dict.fromkeys(FIELDS, ""),
        "group_size": "3",
        "time_limit_minutes": "1440",
        "per_shopper_limit": "1",
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
    }
    return await _form(request, deal=None, form=form, error="")


async def create(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.PRODUCTS)
    form = _posted(await read_form(request))
    try:
        deal_id = await deals.create_deal(deal=_deal_input(form), merchant_id=staff.merchant_id)
    except CommerceError as error:
        if error.kind is not ErrorKind.INVALID:
            raise
        return await _form(request, deal=None, form=form, error=error.message, status=400)
    raise web.HTTPFound(f"/admin/group-deals/{deal_id}")


async def deal_page(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.PRODUCTS)
    deal = await backoffice.staff_deal(deal_id=path_id(request), merchant_id=staff.merchant_id)
    return await _form(request, deal=deal, form=_form_of(deal), error="")


async def save(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.PRODUCTS)
    deal_id = path_id(request)
    deal = await backoffice.staff_deal(deal_id=deal_id, merchant_id=staff.merchant_id)
    form = _posted(await read_form(request))
    try:
        await deals.update_deal(deal_id=deal_id, deal=_deal_input(form), merchant_id=staff.merchant_id)
    except CommerceError as error:
        if error.kind not in (ErrorKind.INVALID, ErrorKind.CONFLICT):
            raise
        return await _form(request, deal=deal, form=form, error=error.message, status=400)
    raise web.HTTPFound(f"/admin/group-deals/{deal_id}")


async def end(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.PRODUCTS)
    deal_id = path_id(request)
    await deals.end_deal(deal_id=deal_id, merchant_id=staff.merchant_id)
    raise web.HTTPFound(f"/admin/group-deals/{deal_id}")


def _posted(posted) -> dict[str, str]:
    return {name: str(posted.get(name, ""))[:2000] for name in FIELDS}


def _deal_input(form: dict[str, str]) -> deals.DealInput:
    """The form's text as a deal; what cannot be read is INVALID_DEAL with what to fix."""
    try:
        prices = {}
        for line in form["prices"].replace("，", ",").splitlines():
            if line.strip():
                sku, price = line.split(",", 1)
                prices[int(sku.strip())] = yuan_to_fen(price.strip())
        numbers = [int(form[name]) for name in ("group_size", "time_limit_minutes", "per_shopper_limit")]
        least = int(form["least"]) if form["least"].strip() else None
        starts, ends = (_shanghai_time(form[name]) for name in ("starts_at", "ends_at"))
    except (ValueError, ArithmeticError):
        raise GroupBuyError.INVALID_DEAL.error(
            "请检查：拼团价每行「规格ID,价格（元）」，人数与时限填整数，时间填完整"
        ) from None
    return deals.DealInput(
        title=form["title"],
        prices=prices,
        group_size=numbers[0],
        time_limit_minutes=numbers[1],
        per_shopper_limit=numbers[2],
        starts_at=starts,
        ends_at=ends,
        min_paid_at_deadline=least,
    )


def _shanghai_time(text: str) -> datetime:
    return datetime.fromisoformat(text.strip()).replace(tzinfo=clock.SHANGHAI)


def _form_of(deal) -> dict[str, str]:
    return {
        "title": deal.title,
        "prices": "\n".join(f"{sku},{fen_to_yuan(price)}" for sku, price in deal.prices.items()),
        "group_size": str(deal.group_size),
        "time_limit_minutes": str(deal.time_limit_minutes),
        "per_shopper_limit": str(deal.per_shopper_limit),
        "starts_at": clock.to_shanghai(deal.starts_at).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": clock.to_shanghai(deal.ends_at).strftime("%Y-%m-%dT%H:%M"),
        "least": str(deal.min_paid_at_deadline or ""),
    }


async def _form(
    request: web.Request, *, deal, form: dict[str, str], error: str, status: int = 200
) -> web.Response:
    staff = session_for(request).staff
    groups = await backoffice.staff_groups(deal_id=deal.id, merchant_id=staff.merchant_id) if deal else []
    context: dict[str, Any] = {
        "active": ACTIVE,
        "deal": deal,
        "form": form,
        "error": error,
        "groups": groups,
        "deal_statuses": DEAL_STATUS,
        "group_statuses": GROUP_STATUS,
        "seat_statuses": SEAT_STATUS,
        "shanghai": clock.to_shanghai,
    }
    return aiohttp_jinja2.render_template("group_deal.html", request, context, status=status)
