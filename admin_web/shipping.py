"""Shipping fee templates: a merchant's people (with the permission) keep their merchant's, the
platform admin any merchant's. The form posts the whole template: a flat fee, free from an
amount, and a row per province that differs."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy

from admin_web.keys import CORE
from admin_web.security import path_id, session_for
from commerce.errors import CommerceError, ErrorKind
from commerce.merchants import services as merchants
from commerce.money import MoneyFormatError, fen_to_yuan, yuan_to_fen
from commerce.shipping import templates
from commerce.shipping.errors import ShippingError
from commerce.shipping.provinces import PROVINCES
from commerce.staff.permissions import Permission, require


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/shipping", list_page)
    router.add_get("/shipping/{id}", detail)
    router.add_post("/shipping/{id}", save)


async def list_page(request: web.Request) -> web.Response:
    """The platform sees every merchant's rule; a merchant's people go to their own."""
    staff = session_for(request).staff
    require(staff, Permission.SHIPPING)
    if staff.merchant_id is not None:
        raise web.HTTPFound(f"/admin/shipping/{staff.merchant_id}")
    settings = request.app[CORE].settings
    rows = [
        (m, templates.describe(await templates.template_of(merchant_id=m.id, settings=settings)))
        for m in await merchants.list_merchants()
    ]
    default = templates.describe(templates.default_template(settings, merchant_id=0))
    context = {"active": "shipping", "rows": rows, "default": default}
    return aiohttp_jinja2.render_template("shipping_templates.html", request, context)


async def detail(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.SHIPPING)
    template = await templates.template_for_staff(
        merchant_id=path_id(request), staff_merchant_id=staff.merchant_id, settings=request.app[CORE].settings
    )
    return await _render(request, template.merchant_id, _form_of(template), error="")


async def save(request: web.Request) -> web.Response:
    session = session_for(request)
    require(session.staff, Permission.SHIPPING)
    merchant_id = path_id(request)
    posted = await request.post()
    try:
        fee, free_from, provinces = _parse(posted)
        await templates.save_template(
            merchant_id=merchant_id,
            staff_merchant_id=session.staff.merchant_id,
            fee=fee,
            free_from=free_from,
            provinces=provinces,
            version=_int(posted.get("version")),
            actor=session.staff.actor,
            settings=request.app[CORE].settings,
        )
    except CommerceError as error:
        if error.kind is ErrorKind.NOT_FOUND:
            raise
        form = {key: str(value) for key, value in posted.items() if key != "csrf_token"}
        return await _render(request, merchant_id, form, error=error.message, status=400)
    raise web.HTTPFound(f"/admin/shipping/{merchant_id}")


async def _render(
    request: web.Request, merchant_id: int, form: dict[str, Any], *, error: str, status: int = 200
) -> web.Response:
    context = {
        "active": "shipping",
        "merchant": await merchants.get_merchant(merchant_id=merchant_id),
        "provinces": list(enumerate(PROVINCES)),
        "form": form,
        "default": templates.describe(templates.default_template(request.app[CORE].settings, merchant_id)),
        "error": error,
    }
    return aiohttp_jinja2.render_template("shipping_template.html", request, context, status=status)


def _form_of(template: templates.Template) -> dict[str, str]:
    """The form's fields as the template fills them (yuan; blank: as the template, or never)."""
    form = {
        "fee": fen_to_yuan(template.fee),
        "free_from": _yuan(template.free_from),
        "version": str(template.version),
        "is_default": "1" if template.is_default else "",
    }
    for rule in template.provinces:
        i = PROVINCES.index(rule.province)
        form |= {f"fee_{i}": _yuan(rule.fee), f"free_from_{i}": _yuan(rule.free_from)}
        form |= {
            f"never_free_{i}": "1" if rule.never_free else "",
            f"undeliverable_{i}": "1" if rule.undeliverable else "",
        }
    return form


def _parse(posted: MultiDictProxy) -> tuple[int, int | None, list[templates.ProvinceRule]]:
    """(fee, free from, province rules) in fen; a province row left empty has no rule."""
    fee = _fen(posted.get("fee"))
    if fee is None:
        raise ShippingError.INVALID_AMOUNT.error("请填写运费（不收运费填 0）")
    rules = []
    for i, province in enumerate(PROVINCES):
        rule = templates.ProvinceRule(
            province=province,
            fee=_fen(posted.get(f"fee_{i}")),
            free_from=_fen(posted.get(f"free_from_{i}")),
            never_free=bool(posted.get(f"never_free_{i}")),
            undeliverable=bool(posted.get(f"undeliverable_{i}")),
        )
        if rule != templates.ProvinceRule(province=province):
            rules.append(rule)
    return fee, _fen(posted.get("free_from")), rules


def _fen(value: object) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return yuan_to_fen(text)
    except MoneyFormatError:
        raise ShippingError.INVALID_AMOUNT.error() from None


def _yuan(fen: int | None) -> str:
    return "" if fen is None else fen_to_yuan(fen)


def _int(value: object) -> int:
    text = str(value or "0").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else -1
