"""拼团 share pages: a group (readable without signing in, for the share link and the code),
the open groups of a deal, and the group's mini-program code."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web

from commerce import clock
from commerce.groupbuy import queries, services
from commerce.groupbuy.queries import DealCard, GroupView
from commerce.groupbuy.states import GroupStatus
from commerce.users.services import Shopper
from miniprogram_api.keys import CORE
from miniprogram_api.routing import Router, path_id
from miniprogram_api.schemas.groups import DealOut, GroupListOut, GroupOut

router = Router()
TAG = "拼团"
STATUS_LABELS = {GroupStatus.FORMING: "拼团中", GroupStatus.SUCCEEDED: "已成团", GroupStatus.FAILED: "未成团"}


@router.get("/groups/{id}", summary="团详情（分享链接打开，无需登录）", tag=TAG, response=GroupOut)
async def get_group(request: web.Request) -> dict[str, Any]:
    group = await queries.group_view(group_id=path_id(request))
    return group_json(group, await queries.deal_card(deal_id=group.deal_id))


@router.get("/group-deals/{id}", summary="拼团活动（无需登录）", tag=TAG, response=DealOut)
async def get_deal(request: web.Request) -> dict[str, Any]:
    return deal_json(await queries.deal_card(deal_id=path_id(request)))


@router.get("/group-deals/{id}/groups", summary="可参加的团（无需登录）", tag=TAG, response=GroupListOut)
async def open_groups(request: web.Request) -> dict[str, Any]:
    deal = await queries.deal_card(deal_id=path_id(request))
    return {"items": [group_json(g, deal) for g in await queries.open_groups(deal_id=deal.id)]}


@router.get("/groups/{id}/code", summary="团的小程序码（PNG，scene 指向该团）", tag=TAG, auth=True)
async def group_code(request: web.Request, *, shopper: Shopper) -> web.Response:
    image = await services.share_code(group_id=path_id(request), wechat=request.app[CORE].wechat)
    return web.Response(body=image, content_type="image/png")


def group_json(group: GroupView, deal: DealCard) -> dict[str, Any]:
    body = asdict(group)
    body["status"] = group.status.value
    body["status_label"] = STATUS_LABELS[group.status]
    body["deadline"] = clock.to_shanghai(group.deadline).isoformat()
    body["deal"] = deal_json(deal)
    body["share"] = {"path": queries.share_path(group.id), "scene": queries.share_scene(group.id)}
    return body


def deal_json(deal: DealCard) -> dict[str, Any]:
    body = asdict(deal)
    body["ends_at"] = clock.to_shanghai(deal.ends_at).isoformat()
    return body
