"""The shopper's after-sales requests: what an order allows, asking, reading, withdrawing,
sending the goods back, and the photos that go with a request.

Errors (besides invalid_request / malformed_json, 400): another shopper's request or order is
404 aftersale_not_found / order_not_found; what the order no longer allows is 409
(aftersale_not_allowed, aftersale_window_passed, aftersale_exceeds_line,
return_before_shipment); a request someone moved first is 409 aftersale_already_handled.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_request import FileField

from commerce import clock
from commerce.aftersales import queries, services
from commerce.aftersales.errors import AfterSaleError
from commerce.aftersales.queries import AfterSaleView, RefundState
from commerce.aftersales.services import LineAsk
from commerce.errors import CommerceError
from commerce.media.errors import MediaError
from commerce.media.services import store_aftersale_photo
from commerce.media.storage import open_storage
from commerce.users.services import Shopper
from miniprogram_api.keys import CORE
from miniprogram_api.routing import Router, path_id
from miniprogram_api.schemas.aftersales import (
    AfterSaleIn,
    AfterSaleListQuery,
    AfterSaleOptionsOut,
    AfterSaleOut,
    AfterSalePageOut,
    PhotoOut,
    ReturnIn,
)

router = Router()
TAG = "售后"
PHOTO_PATH = "/aftersales/photos"


@router.get(
    "/orders/{id}/aftersales/options",
    summary="订单可申请的售后：每件商品可退的件数和金额、可选类型和原因、售后截止时间、退货地址",
    tag=TAG,
    response=AfterSaleOptionsOut,
    auth=True,
)
async def aftersale_options(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    order_id = path_id(request)
    options = await services.aftersale_options(
        shopper=shopper, order_id=order_id, settings=request.app[CORE].settings
    )
    body = plain(options)
    body.setdefault("order_id", order_id)
    body.setdefault("can_apply", can_apply(body))
    return body


def can_apply(options: dict[str, Any]) -> bool:
    """Whether anything is left to ask for, in some kind."""
    left = any(line.get("refundable_quantity", 0) > 0 for line in options.get("lines", []))
    return left and bool(options.get("kinds"))


@router.post(
    "/aftersales",
    summary="申请售后（仅退款 / 退货退款，可按商品和件数部分退款）；未发货的仅退款无需审核",
    tag=TAG,
    body=AfterSaleIn,
    response=AfterSaleOut,
    auth=True,
    status=201,
)
async def request_aftersale(request: web.Request, *, body: AfterSaleIn, shopper: Shopper) -> dict[str, Any]:
    view = await services.request_aftersale(
        shopper=shopper,
        order_id=body.order_id,
        kind=body.kind.value,
        lines=[LineAsk(line.order_line_id, line.quantity, line.amount) for line in body.lines],
        reason=body.reason,
        description=body.description,
        photos=body.photos,
        settings=request.app[CORE].settings,
    )
    return aftersale_json(view)


@router.get(
    "/aftersales",
    summary="我的售后申请（新的在前）",
    tag=TAG,
    query=AfterSaleListQuery,
    response=AfterSalePageOut,
    auth=True,
)
async def list_aftersales(
    request: web.Request, *, query: AfterSaleListQuery, shopper: Shopper
) -> dict[str, Any]:
    status = query.status.value if query.status else None
    items = await queries.list_mine(
        shopper=shopper, status=status, page=query.page, page_size=query.page_size
    )
    # Whether a next page exists: the one request after this page (a page of size 1 there).
    after = query.page * query.page_size + 1
    more = len(items) == query.page_size and bool(
        await queries.list_mine(shopper=shopper, status=status, page=after, page_size=1)
    )
    return {
        "items": [aftersale_json(view) for view in items],
        "total": None,  # the core counts none; has_more says whether to ask for the next page
        "has_more": more,
        "page": query.page,
        "page_size": query.page_size,
    }


@router.get("/aftersales/{id}", summary="售后详情（含进度）", tag=TAG, response=AfterSaleOut, auth=True)
async def get_aftersale(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    return aftersale_json(await queries.get_mine(shopper=shopper, aftersale_id=_aftersale_id(request)))


@router.post(
    "/aftersales/{id}/cancel",
    summary="撤销售后申请（退款发起前）",
    tag=TAG,
    response=AfterSaleOut,
    auth=True,
)
async def cancel_aftersale(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    aftersale_id = _aftersale_id(request)
    return aftersale_json(await services.cancel_aftersale(shopper=shopper, aftersale_id=aftersale_id))


@router.post(
    "/aftersales/{id}/return",
    summary="填写退货物流（商家同意退货后）",
    tag=TAG,
    body=ReturnIn,
    response=AfterSaleOut,
    auth=True,
)
async def ship_return(request: web.Request, *, body: ReturnIn, shopper: Shopper) -> dict[str, Any]:
    aftersale_id = _aftersale_id(request)
    # The carriers WeChat knows, by code or name, as staff choose them when shipping (the
    # service checks both and says invalid_return_tracking).
    view = await services.ship_return(
        shopper=shopper, aftersale_id=aftersale_id, carrier=body.carrier, tracking_no=body.tracking_no
    )
    return aftersale_json(view)


@router.post(
    PHOTO_PATH,
    summary="上传凭证图片（multipart/form-data，字段 file；JPEG/PNG/WebP/GIF）",
    tag=TAG,
    response=PhotoOut,
    auth=True,
    status=201,
    upload="file",
)
async def upload_photo(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    settings = request.app[CORE].settings
    if not request.content_type.startswith("multipart/"):
        raise MediaError.EMPTY.error("请用 multipart/form-data 上传图片（字段 file）")
    try:
        upload = (await request.post()).get("file")
    except (ValueError, LookupError, HttpProcessingError):  # a broken multipart, an unknown charset
        raise MediaError.EMPTY.error("图片上传格式有误，请重新选择图片（字段 file）") from None
    if not isinstance(upload, FileField):
        raise MediaError.EMPTY.error("请选择图片（字段 file）")
    data = upload.file.read(settings.media_max_bytes + 1)
    async with open_storage(settings) as storage:
        url = await store_aftersale_photo(storage=storage, data=data, max_bytes=settings.media_max_bytes)
    return {"url": url}


def _aftersale_id(request: web.Request) -> int:
    """The request's id from the path; a malformed one is the request not found."""
    try:
        return path_id(request)
    except CommerceError:
        raise AfterSaleError.NOT_FOUND.error() from None


# What the shopper may read of a request: never who reviewed it, staff's notes, nor WeChat
# Pay's internals (a failed refund is staff's to fix; to the shopper it is on its way).
_HIDDEN = {"user_id", "merchant_id", "refund", "restocked", "timeline", "reviewed_by"}
_STAFF_ONLY_EVENTS = {"note", "refund_failed", "refund_retried"}


def aftersale_json(view: AfterSaleView) -> dict[str, Any]:
    body = {k: v for k, v in plain(view).items() if k not in _HIDDEN}
    body["refund_status"] = _refund_status(view.refund)
    body["timeline"] = [
        {
            "type": entry.type,
            "from_status": entry.from_status,
            "to_status": entry.to_status,
            "actor": _actor(entry.actor),
            "created_at": _shanghai(entry.created_at),
        }
        for entry in view.timeline
        if entry.type not in _STAFF_ONLY_EVENTS
    ]
    return body


def _refund_status(refund: RefundState | None) -> str | None:
    """The shopper's view of the money: on its way, or arrived."""
    if refund is None:
        return None
    return "succeeded" if refund.status == "succeeded" else "processing"


def _actor(actor: str) -> str:
    """Who moved it, as the shopper reads it: they, the merchant (any staff), or the system."""
    kind = actor.partition(":")[0]
    return kind if kind in ("shopper", "system") else "merchant"


def plain(value: Any) -> Any:
    """A dataclass as JSON: times in Beijing time, enums as their values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return _shanghai(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _shanghai(moment: datetime | None) -> str | None:
    return clock.to_shanghai(moment).isoformat() if moment else None
