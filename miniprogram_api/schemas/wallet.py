"""The payee's wallet and withdrawals to their WeChat balance. Money is int fen; times are
Beijing time (ISO 8601)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from commerce.money import MAX_FEN
from commerce.payouts.states import PayoutStatus


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int = Field(ge=1, le=MAX_FEN, description="提现金额（分）")
    real_name: str | None = Field(
        None, max_length=32, description="真实姓名（与微信实名一致）；单笔达到实名门槛（默认 2000 元）时必填"
    )


class TransferParamsOut(BaseModel):
    """What the mini-program passes to wx.requestMerchantTransfer while the payee is to confirm."""

    mchId: str  # WeChat's own parameter names
    appId: str
    package: str


class WithdrawalOut(BaseModel):
    id: int
    out_bill_no: str
    amount: int
    status: PayoutStatus = Field(
        description="requested 待审核；approved 已审核，转账中；waiting_confirmation 待确认收款；"
        "succeeded 已到账；refused 已拒绝；failed 转账失败；cancelled 已撤销（超时未确认）"
    )
    created_at: str
    confirm_deadline: str | None = Field(None, description="须在此时间前确认收款，逾期自动撤销并退回余额")
    finished_at: str | None = None
    refusal: str = ""
    failure_reason: str = ""
    transfer: TransferParamsOut | None = Field(
        None, description="待确认收款时：wx.requestMerchantTransfer 的参数"
    )


class WalletOut(BaseModel):
    owed: int = Field(description="可提现余额（分）")
    in_transit: int = Field(description="提现中（分）：已申请、尚未到账或退回")
    withdrawals: list[WithdrawalOut] = Field(description="最近的提现记录（新的在前）")
