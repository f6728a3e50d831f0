"""拼团 shapes. Money is integer fen; times ISO 8601 in Asia/Shanghai."""

from __future__ import annotations

from pydantic import BaseModel, Field

from commerce.groupbuy.states import GroupStatus


class MemberOut(BaseModel):
    nickname: str = Field(description="昵称（已打码）")
    avatar_url: str
    paid: bool = Field(description="已支付；未支付的正在 5 分钟内付款")


class DealSkuOut(BaseModel):
    sku_id: int
    specs: dict[str, str]
    list_price: int = Field(description="原价（分）")
    group_price: int = Field(description="拼团价（分）")
    stock: int


class DealOut(BaseModel):
    id: int
    title: str
    product_id: int
    product_title: str
    image: str
    group_size: int = Field(description="成团人数")
    time_limit_minutes: int = Field(description="每个团的成团时限（分钟）")
    per_shopper_limit: int = Field(description="每人限购件数")
    ends_at: str
    on: bool = Field(description="活动进行中")
    skus: list[DealSkuOut]


class ShareOut(BaseModel):
    path: str = Field(description="小程序页面路径，用于 onShareAppMessage")
    scene: str = Field(description="小程序码的 scene（GET /groups/{id}/code 取图片）")


class GroupOut(BaseModel):
    id: int
    status: GroupStatus = Field(description="forming 拼团中；succeeded 已成团；failed 未成团（已退款）")
    status_label: str
    size: int
    seats_left: int
    paid: int
    deadline: str
    seconds_left: int = Field(description="剩余时间（秒）")
    members: list[MemberOut]
    deal: DealOut
    share: ShareOut


class GroupListOut(BaseModel):
    items: list[GroupOut]
