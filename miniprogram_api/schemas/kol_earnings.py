"""A KOL's earnings: commissions pending (held ones included), held for review, earned,
reversed, withdrawable, and their commissions and withdrawals. Money is int fen; times are
Beijing time (ISO 8601)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from commerce.referrals.states import KolCommissionStatus
from miniprogram_api.schemas.wallet import WithdrawalOut


class KolEarningsOut(BaseModel):
    pending: int = Field(description="待结算佣金（分）：已支付未过售后期（含审核中冻结的），退款会按比例冲回")
    held: int = Field(description="其中因风控审核冻结的佣金（分）：审核通过后恢复待结算，判定作弊则作废")
    earned: int = Field(description="累计已结算佣金（分）")
    reversed: int = Field(description="累计因退款冲回或审核作废的佣金（分）")
    withdrawn: int = Field(
        description="累计已提现到微信零钱（分）：可提现余额不分来源，含团长佣金等其他收入的提现"
    )
    withdrawable: int = Field(description="可提现余额（分）")
    in_transit: int = Field(description="提现中（分）")


class KolCommissionsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(1, ge=1, le=1000)
    page_size: int = Field(20, ge=1, le=50)


class KolCommissionOut(BaseModel):
    id: int
    order_no: str = Field(description="订单号（中间部分隐去）")
    level: int = Field(description="1 一级：您推广的客户下单；2 二级：您邀请的推广员带来的订单")
    channel: str = Field(description="归因的推广渠道：link、qr_scan、qr_follow、mp_code、share")
    basis: int = Field(description="计佣金额（分）：商品实付（优惠后，不含运费）")
    amount: int = Field(description="计提佣金（分）")
    reversed: int = Field(description="因退款冲回或审核作废（分）")
    earned: int = Field(description="已结算到可提现余额（分）")
    status: KolCommissionStatus = Field(
        description="pending 待结算（确认收货且售后期满后结算）；held 风控审核中冻结；earned 已结算，可提现；"
        "reversed 订单全部退款，已冲回；voided 审核判定作弊，已作废"
    )
    accrued_at: str
    earned_at: str | None = None


class KolCommissionPageOut(BaseModel):
    items: list[KolCommissionOut]
    total: int
    page: int
    page_size: int


class KolWithdrawalsOut(BaseModel):
    items: list[WithdrawalOut] = Field(description="最近的提现记录（新的在前）")
