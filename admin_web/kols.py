"""KOLs (达人推广), the platform's people only (Permission.KOLS): applications by status and
their review (approve into a tier, refuse or suspend with a reason the KOL is told, reinstate,
change tier), inviting a user, a KOL's page with their figures and timeline, and the tiers with
their rates per category. Phones are masked; every change is audited by the core."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.keys import CORE
from admin_web.orders import shown
from admin_web.security import path_id, read_form, session_for
from commerce import clock
from commerce.catalog import queries as catalog
from commerce.errors import CommerceError, ErrorKind
from commerce.money import fen_to_yuan
from commerce.referrals import codes, kol_queries, kols, tiers
from commerce.referrals.errors import KolError
from commerce.referrals.states import KolStatus
from commerce.staff.permissions import Permission, require
from commerce.users.services import mask_phone

STATUS_TEXT = {
    "applied": "待审核",
    "approved": "已通过",
    "refused": "未通过",
    "suspended": "已暂停",
}
EVENT_TEXT = {
    "applied": "提交申请",
    "invited": "平台邀请",
    "status_changed": "状态变更",
    "tier_changed": "等级变更",
}
PARAM_TEXT = {
    "reason": "原因",
    "tier_id": "等级",
    "parent_kol_id": "邀请人",
    "from": "原等级",
    "to": "新等级",
}
_RATE = re.compile(r"^\d{1,3}(\.\d{1,2})?$")
_ID = re.compile(r"^\d{1,9}$")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/kols", list_page)
    router.add_post("/kols/invite", invite)
    router.add_get("/kols/{id}", detail)
    router.add_post("/kols/{id}/approve", approve)
    router.add_post("/kols/{id}/refuse", refuse)
    router.add_post("/kols/{id}/suspend", suspend)
    router.add_post("/kols/{id}/reinstate", reinstate)
    router.add_post("/kols/{id}/tier", change_tier)
    router.add_get("/kol-tiers", tiers_page)
    router.add_post("/kol-tiers", create_tier)
    router.add_post("/kol-tiers/{id}", update_tier)
    router.add_post("/kol-tiers/{id}/category-rate", set_category_rate)


# --- KOLs and applications ---------------------------------------------------------------


async def list_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.KOLS)
    return await _render_list(request, error="")


async def _render_list(
    request: web.Request, *, error: str, status: int = 200, form: dict[str, str] | None = None
) -> web.Response:
    wanted = request.query.get("status", "applied")
    chosen = wanted if wanted in STATUS_TEXT else ""
    context = {
        "active": "kols",
        "rows": await kol_queries.kols(status=KolStatus(chosen) if chosen else None),
        "status": chosen,
        "statuses": STATUS_TEXT,
        "counts": await kol_queries.status_counts(),
        "tiers": await tiers.tiers(),
        "default_tier": request.app[CORE].settings.kol_default_tier,
        "masked": mask_phone,
        "shown": shown,
        "error": error,
        "form": form or {},
    }
    return aiohttp_jinja2.render_template("kols.html", request, context, status=status)


async def invite(request: web.Request) -> web.Response:
    """Make a user a KOL at once (by their user id), into the tier chosen (or the default)."""
    staff = session_for(request).staff
    require(staff, Permission.KOLS)
    posted = await read_form(request)
    form = {k: str(posted.get(k, "")).strip()[:300] for k in ("user_id", "name", "phone", "intro", "tier_id")}
    if not _ID.match(form["user_id"]):
        return await _render_list(request, error="请填写用户编号", status=400, form=form)
    try:
        kol = await kols.invite(
            user_id=int(form["user_id"]),
            application=kols.Application(name=form["name"], phone=form["phone"], intro=form["intro"]),
            tier_id=_tier_choice(form["tier_id"]),
            default=tiers.DefaultTier.of(request.app[CORE].settings),
            actor=staff.actor,
        )
    except CommerceError as error:
        return await _render_list(request, error=error.message, status=_status_of(error), form=form)
    raise web.HTTPFound(f"/admin/kols/{kol.id}")


async def detail(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.KOLS)
    return await _render_detail(request, path_id(request), error="")


async def approve(request: web.Request) -> web.Response:
    async def act(kol_id: int, actor: str, form) -> Any:
        return await kols.approve(
            kol_id=kol_id,
            tier_id=_tier_choice(str(form.get("tier_id", ""))),
            default=tiers.DefaultTier.of(request.app[CORE].settings),
            actor=actor,
        )

    return await _act(request, act)


async def refuse(request: web.Request) -> web.Response:
    return await _act(
        request, lambda kol_id, actor, form: kols.refuse(kol_id=kol_id, reason=_reason(form), actor=actor)
    )


async def suspend(request: web.Request) -> web.Response:
    return await _act(
        request, lambda kol_id, actor, form: kols.suspend(kol_id=kol_id, reason=_reason(form), actor=actor)
    )


async def reinstate(request: web.Request) -> web.Response:
    return await _act(request, lambda kol_id, actor, _: kols.reinstate(kol_id=kol_id, actor=actor))


async def change_tier(request: web.Request) -> web.Response:
    async def act(kol_id: int, actor: str, form) -> Any:
        tier_id = _tier_choice(str(form.get("tier_id", "")))
        if tier_id is None:
            raise KolError.INVALID_TIER.error("请选择推广等级")
        return await kols.change_tier(kol_id=kol_id, tier_id=tier_id, actor=actor)

    return await _act(request, act)


async def _act(request: web.Request, action) -> web.Response:
    """One review action by the signed-in staff member (audited by the service); a refusal
    (someone handled it first, a reason missing) shows on the KOL's page."""
    staff = session_for(request).staff
    require(staff, Permission.KOLS)
    kol_id = path_id(request)
    form = await read_form(request)
    try:
        await action(kol_id, staff.actor, form)
    except CommerceError as error:
        if error.kind is ErrorKind.FORBIDDEN or error.code == "kol_not_found":
            raise
        return await _render_detail(request, kol_id, error=error.message, status=_status_of(error))
    raise web.HTTPFound(f"/admin/kols/{kol_id}")


async def _render_detail(request: web.Request, kol_id: int, *, error: str, status: int = 200) -> web.Response:
    view = await kol_queries.get_kol(kol_id)
    today = clock.to_shanghai(clock.now()).date()
    context = {
        "active": "kols",
        "k": view,
        "status_value": view.status.value,
        "phone": mask_phone(view.phone),
        "tier": await tiers.get_tier(view.tier_id) if view.tier_id else None,
        "tiers": await tiers.tiers(),
        "tier_names": await tiers.tier_names(),
        "default_tier": request.app[CORE].settings.kol_default_tier,
        "share_path": codes.share_path(view.code),
        "qr_scene": codes.qr_scene(view.code),
        "mp_scene": codes.mp_code_scene(view.code),
        "qrcode": await kol_queries.qrcode_of(view.id),
        "today": await kol_queries.figures(view.id, start=today, end=today),
        "month": await kol_queries.figures(view.id, start=today.replace(day=1), end=today),
        "recruits": await kol_queries.recruits_count(view.id),
        "events": await kol_queries.kol_events(view.id),
        "statuses": STATUS_TEXT,
        "event_text": EVENT_TEXT,
        "param_text": PARAM_TEXT,
        "yuan": fen_to_yuan,
        "percent": _percent,
        "shown": shown,
        "error": error,
    }
    return aiohttp_jinja2.render_template("kol.html", request, context, status=status)


# --- tiers ---------------------------------------------------------------------------------


async def tiers_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.KOLS)
    return await _render_tiers(request, error="")


async def _render_tiers(request: web.Request, *, error: str, status: int = 200) -> web.Response:
    settings = request.app[CORE].settings
    context = {
        "active": "kols",
        "tiers": await tiers.tiers(),
        "categories": [(line.id, line.name) for line in await catalog.category_lines()],
        "default_tier": settings.kol_default_tier,
        "default_bps": settings.kol_default_rate_bps,
        "percent": _percent,
        "shown": shown,
        "error": error,
    }
    return aiohttp_jinja2.render_template("kol_tiers.html", request, context, status=status)


async def create_tier(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.KOLS)
    form = await read_form(request)
    rate, second = _bps(form, "rate"), _bps(form, "second_level_rate", blank=0)
    if rate is None or second is None:
        return await _render_tiers(request, error="佣金比例请填写百分数，如 5 或 8.5", status=400)
    return await _tier_action(
        request,
        tiers.create_tier(
            name=str(form.get("name", ""))[:100], rate_bps=rate, second_level_bps=second, actor=staff.actor
        ),
    )


async def update_tier(request: web.Request) -> web.Response:
    """Rename the tier and set its default and second-level rates (one form)."""
    staff = session_for(request).staff
    require(staff, Permission.KOLS)
    tier_id = path_id(request)
    form = await read_form(request)
    rate, second = _bps(form, "rate"), _bps(form, "second_level_rate", blank=0)
    if rate is None or second is None:
        return await _render_tiers(request, error="佣金比例请填写百分数，如 5 或 8.5", status=400)

    async def both() -> None:
        await tiers.rename_tier(tier_id=tier_id, name=str(form.get("name", ""))[:100], actor=staff.actor)
        await tiers.set_tier_rates(tier_id=tier_id, rate_bps=rate, second_level_bps=second, actor=staff.actor)

    return await _tier_action(request, both())


async def set_category_rate(request: web.Request) -> web.Response:
    """The tier's rate for a category in percent; blank clears it."""
    staff = session_for(request).staff
    require(staff, Permission.KOLS)
    tier_id = path_id(request)
    form = await read_form(request)
    category = str(form.get("category_id", "")).strip()
    rate = _bps(form, "rate", blank=None)
    if not _ID.match(category):
        return await _render_tiers(request, error="请选择类目", status=400)
    if rate is None and str(form.get("rate", "")).strip():
        return await _render_tiers(request, error="佣金比例请填写百分数，如 5 或 8.5", status=400)
    return await _tier_action(
        request,
        tiers.set_category_rate(tier_id=tier_id, category_id=int(category), rate_bps=rate, actor=staff.actor),
    )


async def _tier_action(request: web.Request, call) -> web.Response:
    try:
        await call
    except CommerceError as error:
        return await _render_tiers(request, error=error.message, status=_status_of(error))
    raise web.HTTPFound("/admin/kol-tiers")


# --- form values ---------------------------------------------------------------------------


def _bps(form, name: str, *, blank: int | None = -1) -> int | None:
    """A percentage field ("5", "8.5%") in basis points; `blank` when empty (-1: required).
    None when it is no percentage."""
    raw = str(form.get(name, "")).strip().removesuffix("%")
    if not raw:
        return None if blank == -1 else blank
    if not _RATE.match(raw):
        return None
    return int(Decimal(raw) * 100)


def _tier_choice(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if _ID.match(raw) else None


def _reason(form) -> str:
    return str(form.get("reason", ""))[:300]


def _percent(bps: int) -> str:
    return f"{Decimal(bps) / 100:.2f}%"


def _status_of(error: CommerceError) -> int:
    return {ErrorKind.INVALID: 400, ErrorKind.NOT_FOUND: 404}.get(error.kind, 409)
