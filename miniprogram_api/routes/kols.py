"""KOLs (推广员): applying, and the KOL's own home page, share links and codes under /kol….

Errors (besides invalid_request / malformed_json, 400):
- an application that says too little: 400 kol_application_invalid; applying while an
  application waits or as a KOL already: 409 kol_already_applied;
- /kol: 403 kol_not_applied (never applied);
- /kol/share, /kol/qrcode, /kol/code: 403 kol_not_applied, or kol_not_approved (waiting,
  refused or suspended); a page that is not one of the mini-program's: 400 referral_path_invalid;
  WeChat unavailable: 503 kol_code_unavailable / wechat_refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from commerce import clock
from commerce.referrals import codes, kol_queries, kols
from commerce.referrals.attribution import Rules
from commerce.referrals.kol_queries import Figures, KolDashboard, KolView
from commerce.referrals.tiers import TierView
from commerce.users.services import Shopper
from miniprogram_api.keys import CORE
from miniprogram_api.routing import Router
from miniprogram_api.schemas.kols import (
    KolApplicationEnvelope,
    KolApplicationIn,
    KolDashboardOut,
    KolQrCodeOut,
    KolShareOut,
    KolShareQuery,
)

router = Router()
TAG = "推广员"


@router.post(
    "/kol/application",
    summary="申请成为推广员（未通过可重新申请）",
    tag=TAG,
    body=KolApplicationIn,
    response=KolApplicationEnvelope,
    auth=True,
)
async def apply_as_kol(request: web.Request, *, body: KolApplicationIn, shopper: Shopper) -> dict[str, Any]:
    view = await kols.apply(user_id=shopper.user_id, application=kols.Application(**body.model_dump()))
    return {"kol": kol_json(view)}


@router.get(
    "/kol",
    summary="推广中心：状态、等级与佣金比例、推广码、链接、归属规则、今日和本月数据",
    tag=TAG,
    response=KolDashboardOut,
    auth=True,
)
async def kol_dashboard(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    found = await kol_queries.dashboard(user_id=shopper.user_id, rules=Rules.of(request.app[CORE].settings))
    return dashboard_json(found)


@router.get(
    "/kol/share",
    summary="任意页面的推广链接（页面路径加 ref=推广码）",
    tag=TAG,
    query=KolShareQuery,
    response=KolShareOut,
    auth=True,
)
async def kol_share_link(request: web.Request, *, query: KolShareQuery, shopper: Shopper) -> dict[str, Any]:
    link = await codes.share_link(user_id=shopper.user_id, path=query.path)
    return {"code": link.code, "path": link.path}


@router.get(
    "/kol/qrcode",
    summary="我的公众号带参二维码（永久，扫码关注计入推广）",
    tag=TAG,
    response=KolQrCodeOut,
    auth=True,
)
async def kol_qrcode(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    code = await codes.official_qrcode(user_id=shopper.user_id, mp=request.app[CORE].mp)
    return {"scene": code.scene, "url": code.url, "image_url": code.image_url}


@router.get("/kol/code", summary="我的小程序码（PNG，scene 为 k=推广码）", tag=TAG, auth=True)
async def kol_mp_code(request: web.Request, *, shopper: Shopper) -> web.Response:
    image = await codes.mini_program_code(user_id=shopper.user_id, wechat=request.app[CORE].wechat)
    return web.Response(body=image, content_type="image/png")


def dashboard_json(found: KolDashboard) -> dict[str, Any]:
    """The dashboard as a dict: the earnings part may add its keys to it."""
    qr = found.qrcode
    return {
        "kol": kol_json(found.kol),
        "tier": tier_json(found.tier) if found.tier else None,
        "rules": found.rules,
        "share_path": found.share_path,
        "mp_code_scene": found.mp_code_scene,
        "qrcode": {"scene": qr.scene, "url": qr.url, "image_url": qr.image_url} if qr else None,
        "today": figures_json(found.today),
        "month": figures_json(found.month),
    }


def kol_json(view: KolView) -> dict[str, Any]:
    return {
        "id": view.id,
        "name": view.name,
        "phone": view.phone,  # the KOL's own number, shown to them
        "intro": view.intro,
        "status": view.status.value,
        "reason": view.reason,
        "code": view.code,
        "tier": view.tier_name,
        "applied_at": _shanghai(view.applied_at),
        "reviewed_at": _shanghai(view.reviewed_at),
    }


def tier_json(tier: TierView) -> dict[str, Any]:
    return {
        "id": tier.id,
        "name": tier.name,
        "rate_bps": tier.rate_bps,
        "second_level_bps": tier.second_level_bps,
        "categories": [
            {"category_id": c.category_id, "category": c.category, "rate_bps": c.rate_bps}
            for c in tier.categories
        ],
    }


def figures_json(figures: Figures) -> dict[str, int]:
    return {
        "touches": figures.touches,
        "follows": figures.follows,
        "customers": figures.customers,
        "orders": figures.orders,
        "paid_gmv": figures.paid_gmv,
        "commission_pending": figures.commission_pending,
        "commission_earned": figures.commission_earned,
        "commission_reversed": figures.commission_reversed,
    }


def _shanghai(moment: datetime | None) -> str | None:
    return clock.to_shanghai(moment).isoformat() if moment else None
