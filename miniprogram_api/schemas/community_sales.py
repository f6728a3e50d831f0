"""Community sales (社区团购) and the leader's batches and pickups. Money is int fen; times are
Beijing time (ISO 8601)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SaleItemOut(BaseModel):
    sku_id: int
    product_id: int
    title: str
    specs: dict[str, str]
    image: str
    list_price: int = Field(description="原价（分）")
    community_price: int = Field(description="团购价（分）")
    on_sale: bool
    stock: int


class SaleOut(BaseModel):
    id: int
    title: str
    sale_date: str
    cutoff_at: str = Field(description="截单时间（北京时间）")
    status: str
    items: list[SaleItemOut]


class SaleListOut(BaseModel):
    items: list[SaleOut]


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=16, description="顾客出示的提货码")


class VerifiedOut(BaseModel):
    order_id: int
    order_no: str


class BatchOut(BaseModel):
    id: int
    sale_id: int
    sale_title: str
    status: str = Field(description="formed 已成团待发货；dispatched 已发车；arrived 已到自提点")
    order_count: int
    created_at: str
    dispatched_at: str | None
    arrived_at: str | None


class BatchListOut(BaseModel):
    items: list[BatchOut]


class LeaderOrderOut(BaseModel):
    order_id: int
    order_no: str
    shopper: str = Field(description="提货人（已脱敏）")
    phone: str = Field(description="手机号（已脱敏）")
    summary: str
    payable: int
    paid_at: str | None
    batch_id: int | None
    pickup_status: str = Field(description="awaiting 待到货；ready 待提货；picked_up 已提货")
    unclaimed: bool = Field(description="到货多日仍未提货（已提醒平台）")


class LeaderOrderListOut(BaseModel):
    items: list[LeaderOrderOut]
