"""KOLs flagged by the fraud signals, the platform admin's only (Permission.KOLS, as the KOL
section): the flags (open first), one flag with its evidence (accounts, addresses and devices
masked, refunded orders linked, touch bursts with their minutes), what is held, and the review:
release or void, with a note (decided once: a second reviewer is told). Staff may run the
signals now rather than wait for the hourly job."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.keys import CORE
from admin_web.orders import page_number, shown
from admin_web.security import path_id, read_form, session_for
from commerce.errors import CommerceError, ErrorKind
from commerce.money import fen_to_yuan
from commerce.referrals import flags, signals
from commerce.referrals.states import FlagStatus
from commerce.staff.permissions import Permission, require

PATH = "/admin/kol-flags"
PAGE_SIZE = 50
PERMISSION = Permission.KOLS
STATUS_TEXT = {
    FlagStatus.OPEN.value: "待复核",
    FlagStatus.RELEASED.value: "已解除",
    FlagStatus.VOIDED.value: "已作废",
}
KIND_TEXT = {
    "self_referral": "自购推广（本人点击自己的推广码）",
    "shared_address": "多个推广客户同一收货地址",
    "shared_phone_prefix": "多个推广客户手机号前 7 位相同",
    "shared_device": "多个推广客户同一设备",
    "high_refund_rate": "推广订单退款率高",
    "touch_burst": "同一 IP 短时间内大量点击",
}
EVENT_TEXT = {
    "flagged": "触发风控，冻结佣金",
    "flag_released": "复核：解除冻结",
    "flag_voided": "复核：作废佣金",
}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/kol-flags", list_page)
    router.add_post("/kol-flags/scan", scan_now)
    router.add_get("/kol-flags/{id}", detail)
    router.add_post("/kol-flags/{id}/release", release)
    router.add_post("/kol-flags/{id}/void", void)


async def list_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, PERMISSION)
    return await _render_list(request, notice=request.query.get("scanned", ""))


async def _render_list(request: web.Request, *, notice: str = "") -> web.Response:
    status = request.query.get("status", "")
    status = status if status in STATUS_TEXT else ""
    found = await flags.flag_list(
        status=status or None, page=page_number(request.query.get("page", "")), page_size=PAGE_SIZE
    )
    context = {
        "active": "kol-flags",
        "rows": found.items,
        "total": found.total,
        "page": found.page,
        "pages": max((found.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "status": status,
        "statuses": STATUS_TEXT,
        "kinds": KIND_TEXT,
        "notice": notice if notice.isascii() and notice.isdigit() else "",
        "yuan": fen_to_yuan,
        "shown": shown,
    }
    return aiohttp_jinja2.render_template("kol_flags.html", request, context)


async def scan_now(request: web.Request) -> web.Response:
    """Run the fraud signals now (the hourly job, on demand)."""
    require(session_for(request).staff, PERMISSION)
    done = await signals.scan_now(settings=request.app[CORE].settings)
    raise web.HTTPFound(f"{PATH}?scanned={len(done.flagged)}")


async def detail(request: web.Request) -> web.Response:
    require(session_for(request).staff, PERMISSION)
    return await _render(request, path_id(request), error="")


async def release(request: web.Request) -> web.Response:
    return await _decide(request, flags.release)


async def void(request: web.Request) -> web.Response:
    return await _decide(request, flags.void)


async def _decide(request: web.Request, decide) -> web.Response:
    staff = session_for(request).staff
    require(staff, PERMISSION)
    flag_id = path_id(request)
    form = await read_form(request)
    try:
        await decide(flag_id=flag_id, note=str(form.get("note", ""))[:300], actor=staff.actor)
    except CommerceError as error:
        if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
            raise
        status = 400 if error.kind is ErrorKind.INVALID else 409
        return await _render(request, flag_id, error=error.message, status=status)
    raise web.HTTPFound(f"{PATH}/{flag_id}")


async def _render(request: web.Request, flag_id: int, *, error: str, status: int = 200) -> web.Response:
    found = await flags.flag_detail(flag_id=flag_id)
    context: dict[str, Any] = {
        "active": "kol-flags",
        "d": found,
        "f": found.flag,
        "status_value": found.flag.status.value,
        "statuses": STATUS_TEXT,
        "kinds": KIND_TEXT,
        "event_text": EVENT_TEXT,
        "yuan": fen_to_yuan,
        "shown": shown,
        "error": error,
    }
    return aiohttp_jinja2.render_template("kol_flag.html", request, context, status=status)
