"""A KOL's funnel as the mini-program reads it: days are Beijing days (YYYY-MM-DD), money in fen,
rates in basis points (1234 = 12.34%)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DAY = r"^\d{4}-\d{2}-\d{2}$"


class FunnelQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    start: str = Field(alias="from", pattern=DAY, description="开始日期（北京时间，含当天）")
    end: str = Field(alias="to", pattern=DAY, description="结束日期（北京时间，含当天；最多 366 天）")
    by: Literal["day", "channel"] = Field("day", description="day 按天；channel 按渠道")


class FiguresOut(BaseModel):
    touches: int = Field(description="点击（触达）次数")
    follows: int = Field(description="通过推广二维码新关注公众号")
    customers: int = Field(description="新客户（首次由您带来并登录）")
    orders: int = Field(description="已付款订单")
    paid_gmv: int = Field(description="付款金额（分）")
    commission_pending: int = Field(description="计提佣金（分）")
    commission_earned: int = Field(description="已结算佣金（分）")
    commission_reversed: int = Field(description="冲回佣金（分）")
    follow_rate_bps: int = Field(description="关注率：新关注 / 点击（万分比）")
    customer_rate_bps: int = Field(description="新客率：新客户 / 点击（万分比）")
    order_rate_bps: int = Field(description="下单率：付款订单 / 点击（万分比）")
    orders_per_customer_bps: int = Field(description="付款订单 / 新客户（万分比，可超过 100%）")


class FunnelRowOut(FiguresOut):
    key: str = Field(description="日期（YYYY-MM-DD）或渠道：link、qr_scan、qr_follow、mp_code、share")


class FunnelOut(BaseModel):
    start: str = Field(alias="from")
    end: str = Field(alias="to")
    by: str
    rows: list[FunnelRowOut]
    totals: FiguresOut

    model_config = ConfigDict(populate_by_name=True)
