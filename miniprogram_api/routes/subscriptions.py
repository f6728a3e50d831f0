"""Subscribe messages (订阅消息): which templates the mini-program should ask the shopper for
(before paying for a group, or a community order), and what the shopper answered.

Errors (besides invalid_request / malformed_json, 400): unknown_subscribe_template,
invalid_subscribe_decision (400).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from commerce.users import subscriptions
from commerce.users.services import Shopper
from miniprogram_api.keys import CORE
from miniprogram_api.routing import Router
from miniprogram_api.schemas.subscriptions import SubscriptionsIn, SubscriptionsOut

router = Router()
TAG = "订阅消息"


@router.get(
    "/subscriptions",
    summary="可订阅的消息模板及剩余条数（拼团结果、到货取货）",
    tag=TAG,
    response=SubscriptionsOut,
    auth=True,
)
async def list_templates(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    return await _templates(request, shopper)


@router.post(
    "/subscriptions",
    summary="上报 wx.requestSubscribeMessage 的结果；每个 accept 可发送一条该模板的消息",
    tag=TAG,
    body=SubscriptionsIn,
    response=SubscriptionsOut,
    auth=True,
)
async def report(request: web.Request, *, body: SubscriptionsIn, shopper: Shopper) -> dict[str, Any]:
    templates = request.app[CORE].notifier.templates.values()
    await subscriptions.record_decisions(
        user_id=shopper.user_id,
        decisions=body.results,
        known=[template.template_id for template in templates],
    )
    return await _templates(request, shopper)


async def _templates(request: web.Request, shopper: Shopper) -> dict[str, Any]:
    credits = await subscriptions.credits_of(user_id=shopper.user_id)
    return {
        "templates": [
            {
                "notice": template.notice,
                "title": template.title,
                "template_id": template.template_id,
                "credits": credits.get(template.template_id, 0),
            }
            for template in request.app[CORE].notifier.templates.values()
        ]
    }
