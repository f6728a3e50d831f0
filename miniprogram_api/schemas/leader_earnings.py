"""A community leader's earnings: commissions pending, earned, reversed, and withdrawals to
their WeChat balance. Money is int fen; times are Beijing time (ISO 8601)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from commerce.community.commission_states import CommissionStatus
from miniprogram_api.schemas.wallet import WithdrawalOut


class CommissionOut(BaseModel):
    id: int
    order_id: int
    order_no: str
    basis: int = Field(description="计佣金额（分）：订单商品实付")
    amount: int = Field(description="计提佣金（分）")
    reversed: int = Field(description="因退款冲回（分）")
    earned: int = Field(description="已结算到可提现余额（分）")
    status: CommissionStatus = Field(
        description="pending 待结算（提货且售后期满后结算）；earned 已结算，可提现；"
        "reversed 订单全部退款，已冲回"
    )
    accrued_at: str
    earned_at: str | None = None


class EarningsOut(BaseModel):
    pending: int = Field(description="待结算佣金（分）：已支付未过售后期，退款会按比例冲回")
    earned: int = Field(description="累计已结算佣金（分）")
    reversed: int = Field(description="累计因退款冲回的佣金（分）")
    withdrawn: int = Field(description="累计已提现到微信零钱（分）")
    available: int = Field(description="可提现余额（分）")
    in_transit: int = Field(description="提现中（分）")
    commissions: list[CommissionOut] = Field(description="最近的佣金记录（新的在前）")
    withdrawals: list[WithdrawalOut] = Field(description="最近的提现记录（新的在前）")
