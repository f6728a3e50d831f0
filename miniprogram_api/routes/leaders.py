"""Leaders (团长): applying and the leader's own pages under /leader/…; a shopper's binding to a
leader and the nearest leaders' points under /community/….

Errors (besides invalid_request / malformed_json, 400):
- an application that says too little: 400 leader_application_invalid / location_invalid;
  applying twice at once: 409 leader_already_applied; changing a suspended leader's details,
  or an application staff just reviewed: 409 leader_invalid_status / leader_already_reviewed;
- /leader/dashboard, /leader/customers: 403 leader_not_applied (never applied) or
  leader_not_approved (waiting, refused or suspended);
- binding to an unknown, unapproved or suspended leader: 404 leader_not_found; to oneself:
  400 leader_self_binding.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_request import FileField

from commerce import clock
from commerce.community import binding, leaders, points, queries
from commerce.community.leaders import Application
from commerce.community.points import NearPoint
from commerce.community.queries import BoundLeader, LeaderView, mask_nickname, share_path
from commerce.community.states import BindingSource
from commerce.errors import CommerceError, CommonError, ErrorKind
from commerce.fulfilment.queries import LocatedPoint
from commerce.media.errors import MediaError
from commerce.media.services import store_leader_photo
from commerce.media.storage import open_storage
from commerce.users.services import Shopper
from miniprogram_api.keys import CORE
from miniprogram_api.routing import Router
from miniprogram_api.schemas.leaders import (
    BindIn,
    CustomerPageOut,
    CustomersQuery,
    LeaderApplicationEnvelope,
    LeaderApplicationIn,
    LeaderDashboardOut,
    LeaderPhotoOut,
    MyLeaderEnvelope,
    NearestOut,
    NearestQuery,
)

router = Router()
TAG = "团长"


@router.post(
    "/leader/application",
    summary="申请成为团长（审核中可修改；未通过可重新申请；已通过可修改自提点资料）",
    tag=TAG,
    body=LeaderApplicationIn,
    response=LeaderApplicationEnvelope,
    auth=True,
)
async def apply_as_leader(
    request: web.Request, *, body: LeaderApplicationIn, shopper: Shopper
) -> dict[str, Any]:
    view = await leaders.apply(user_id=shopper.user_id, application=Application(**body.model_dump()))
    return {"application": application_json(view)}


@router.get(
    "/leader/application",
    summary="我的团长申请（未申请为 null）",
    tag=TAG,
    response=LeaderApplicationEnvelope,
    auth=True,
)
async def my_leader_application(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    view = await queries.application_of(shopper.user_id)
    return {"application": application_json(view) if view else None}


@router.post(
    "/leader/photos",
    summary="上传自提点照片（multipart/form-data，字段 file；JPEG/PNG/WebP/GIF）",
    tag=TAG,
    response=LeaderPhotoOut,
    auth=True,
    status=201,
    upload="file",
)
async def upload_point_photo(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    settings = request.app[CORE].settings
    if not request.content_type.startswith("multipart/"):
        raise MediaError.EMPTY.error("请用 multipart/form-data 上传图片（字段 file）")
    try:
        upload = (await request.post()).get("file")
    except (ValueError, LookupError, HttpProcessingError):
        raise MediaError.EMPTY.error("图片上传格式有误，请重新选择图片（字段 file）") from None
    if not isinstance(upload, FileField):
        raise MediaError.EMPTY.error("请选择图片（字段 file）")
    data = upload.file.read(settings.media_max_bytes + 1)
    async with open_storage(settings) as storage:
        url = await store_leader_photo(storage=storage, data=data, max_bytes=settings.media_max_bytes)
    return {"url": url}


@router.get(
    "/leader/dashboard",
    summary="团长中心：状态、分享链接、公众号二维码、顾客数",
    tag=TAG,
    response=LeaderDashboardOut,
    auth=True,
)
async def leader_dashboard(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    leader = await queries.approved_leader_of(shopper.user_id)
    return await dashboard_json(request, leader)


async def dashboard_json(request: web.Request, leader: LeaderView) -> dict[str, Any]:
    """The dashboard as a dict: the sales and commission parts add their keys to it."""
    return {
        "leader": application_json(leader),
        "share_code": leader.share_code,
        "share_path": share_path(leader.share_code),
        "qrcode": await _qrcode(request, leader),
        "customers": await queries.customers_count(leader.id),
        "today": None,  # today's orders: the community sales' part
        "batch": None,  # the latest batch: the community sales' part
        "earnings": None,  # pending, earned, withdrawn: the commission part
    }


async def _qrcode(request: web.Request, leader: LeaderView) -> dict[str, str] | None:
    """Made at WeChat on the first visit and kept; while WeChat is down the page shows the
    share link alone and the next visit tries again."""
    try:
        code = await binding.leader_qrcode(
            leader_id=leader.id, share_code=leader.share_code, mp=request.app[CORE].mp
        )
    except CommerceError as error:
        if error.kind is not ErrorKind.UNAVAILABLE:
            raise
        return None
    return {"scene": code.scene, "url": code.url, "image_url": code.image_url}


@router.get(
    "/leader/customers",
    summary="绑定我的顾客（新的在前；昵称打码）",
    tag=TAG,
    query=CustomersQuery,
    response=CustomerPageOut,
    auth=True,
)
async def leader_customers(
    request: web.Request, *, query: CustomersQuery, shopper: Shopper
) -> dict[str, Any]:
    leader = await queries.approved_leader_of(shopper.user_id)
    rows = await queries.customers_of(leader.id, page=query.page, page_size=query.page_size)
    return {
        "items": [
            {
                "nickname": mask_nickname(c.nickname),
                "source": c.source.value,
                "bound_at": _shanghai(c.bound_at),
            }
            for c in rows
        ],
        "total": await queries.customers_count(leader.id),
        "page": query.page,
        "page_size": query.page_size,
    }


@router.post(
    "/community/bind",
    summary="绑定团长：打开团长分享链接（share_code），或选择团长的自提点（pickup_point_id）；可随时更换",
    tag=TAG,
    body=BindIn,
    response=MyLeaderEnvelope,
    auth=True,
)
async def bind_leader(request: web.Request, *, body: BindIn, shopper: Shopper) -> dict[str, Any]:
    if (body.share_code is None) == (body.pickup_point_id is None):
        raise CommonError.INVALID_REQUEST.error("请提供 share_code 或 pickup_point_id 其中之一")
    if body.share_code is not None:
        bound = await binding.bind_by_share_code(
            user_id=shopper.user_id, share_code=body.share_code, source=BindingSource.LINK
        )
    else:
        assert body.pickup_point_id is not None
        bound = await binding.bind_by_point(user_id=shopper.user_id, pickup_point_id=body.pickup_point_id)
    return {"leader": my_leader_json(bound.leader), "changed": bound.changed}


@router.get(
    "/community/my-leader",
    summary="我绑定的团长及其自提点（未绑定或团长已暂停为 null）",
    tag=TAG,
    response=MyLeaderEnvelope,
    auth=True,
)
async def my_leader(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    found = await queries.bound_leader(shopper.user_id)
    return {"leader": my_leader_json(found) if found else None}


@router.get(
    "/community/points/nearest",
    summary="离我最近的团长自提点（营业中的；按距离由近到远，距离单位米）",
    tag=TAG,
    query=NearestQuery,
    response=NearestOut,
    auth=True,
)
async def nearest_points(request: web.Request, *, query: NearestQuery, shopper: Shopper) -> dict[str, Any]:
    found = await points.nearest_points(latitude=query.lat, longitude=query.lng, limit=query.limit)
    return {"items": [near_json(n) for n in found]}


def application_json(view: LeaderView) -> dict[str, Any]:
    return {
        "id": view.id,
        "name": view.name,
        "phone": view.phone,  # the leader's own number, shown to them
        "status": view.status.value,
        "reason": view.reason,
        "share_code": view.share_code,
        "photo": view.photo,
        "point": point_json(view.point),
        "applied_at": _shanghai(view.applied_at),
        "reviewed_at": _shanghai(view.reviewed_at),
    }


def my_leader_json(found: BoundLeader) -> dict[str, Any]:
    return {
        "leader_id": found.leader_id,
        "name": found.name,
        "point": point_json(found.point),
        "source": found.source.value,
        "bound_at": _shanghai(found.bound_at),
    }


def near_json(near: NearPoint) -> dict[str, Any]:
    return {
        "leader_id": near.leader_id,
        "leader_name": near.leader_name,
        "point": point_json(near.point),
        "distance_m": near.distance_m,
    }


def point_json(point: LocatedPoint) -> dict[str, Any]:
    return {
        "id": point.id,
        "name": point.name,
        "address": point.address,
        "opening_hours": point.opening_hours,
        "latitude": point.latitude,
        "longitude": point.longitude,
        "open": point.active,
    }


def _shanghai(moment: datetime | None) -> str | None:
    return clock.to_shanghai(moment).isoformat() if moment else None
