"""After-sales requests as the shopper makes and reads them. Money is int fen; times are
Beijing time (ISO 8601)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from commerce.aftersales.states import AfterSaleKind, AfterSaleStatus
from commerce.money import MAX_FEN
from miniprogram_api.schemas.catalog import MAX_ID


class LineAskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_line_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Field(ge=1, le=9999, description="退款件数")
    amount: int | None = Field(
        None, ge=1, le=MAX_FEN, description="退款金额（分），不填为该件数应退的实付金额；不能超过可退金额"
    )


class AfterSaleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: int = Field(ge=1, le=MAX_ID)
    kind: AfterSaleKind = Field(description="refund_only 仅退款；return_refund 退货退款（发货后）")
    lines: list[LineAskIn] = Field(min_length=1, max_length=50)
    reason: str = Field(min_length=1, max_length=80, description="售后原因，取自可选原因")
    description: str = Field("", max_length=500, description="问题描述")
    photos: list[str] = Field(
        default_factory=list, max_length=9, description="凭证图片（先用 /aftersales/photos 上传得到的地址）"
    )


class AfterSaleListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: AfterSaleStatus | None = None
    page: int = Field(1, ge=1, le=1000)
    page_size: int = Field(20, ge=1, le=50)


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier: str = Field(
        min_length=1, max_length=32, description="快递公司：编码（如 SF）或名称（如 顺丰速运）"
    )
    tracking_no: str = Field(min_length=1, max_length=64, description="退货运单号")


class OptionLineOut(BaseModel):
    order_line_id: int
    sku_id: int
    title: str
    image: str
    specs: dict[str, str]
    quantity: int = Field(description="购买件数")
    refundable_quantity: int = Field(description="还可申请的件数")
    refundable_amount: int = Field(description="还可退的实付金额（分）")


class AfterSaleOptionsOut(BaseModel):
    """What the shopper may ask for on this order now."""

    order_id: int
    can_apply: bool = Field(description="现在能否申请售后")
    lines: list[OptionLineOut]
    shipping_refundable: int = Field(description="可退运费（分）：仅未发货且退完剩余全部商品时退回")
    kinds: list[str] = Field(description="可选的售后类型")
    reasons: dict[str, list[str]] = Field(description="每种售后类型可选的原因")
    window_ends_at: str | None = Field(description="售后截止时间（北京时间）")
    return_address: str = Field(description="退货寄回地址（商家及联系人）")


class AfterSaleLineOut(BaseModel):
    order_line_id: int
    sku_id: int
    title: str
    quantity: int
    amount: int = Field(description="退款金额（分）")


class TimelineEntryOut(BaseModel):
    type: str = Field(description="requested / status_changed / return_shipped / received / note …")
    from_status: str
    to_status: str
    actor: Literal["shopper", "merchant", "system"] = Field(description="谁做的（买家、商家或系统）")
    created_at: str


class AfterSaleOut(BaseModel):
    id: int
    aftersale_no: str
    order_id: int
    order_no: str
    kind: str
    kind_label: str
    status: AfterSaleStatus
    status_label: str
    reason: str
    description: str
    photos: list[str]
    amount: int = Field(description="退款金额（分），含退回的运费")
    shipping_amount: int = Field(description="其中退回的运费（分）")
    before_shipment: bool = Field(description="申请时商品是否尚未发货")
    lines: list[AfterSaleLineOut]
    return_carrier: str
    return_tracking_no: str
    return_address: str = Field(description="退货寄回地址（商家及联系人，待退货时寄往这里）")
    refusal: str = Field(description="拒绝原因（已拒绝时）")
    refund_status: str | None = Field(
        description="退款进度：processing 退款中 / succeeded 已到账；未退款为空"
    )
    review_due_at: str | None = Field(description="商家未处理时自动同意的时间（北京时间）")
    created_at: str
    updated_at: str
    finished_at: str | None
    timeline: list[TimelineEntryOut] = Field(
        default_factory=list, description="进度（详情接口返回；列表为空）"
    )


class AfterSalePageOut(BaseModel):
    items: list[AfterSaleOut]
    total: int | None = Field(description="总数：不提供（为空）")
    has_more: bool = Field(description="是否还有下一页")
    page: int
    page_size: int


class PhotoOut(BaseModel):
    url: str = Field(description="图片地址，放入 photos 提交")
