from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PaymentParamsOut(BaseModel):
    """Pass as they are to wx.requestPayment."""

    appId: str
    timeStamp: str
    nonceStr: str
    package: str = Field(description="prepay_id=...")
    signType: str = Field(description="RSA")
    paySign: str


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=80, description="退款原因")


class RefundOut(BaseModel):
    out_refund_no: str
    amount: int = Field(description="退款金额（分）")
    reason: str
    automatic: bool = Field(description="系统自动退款（订单取消后才到账的付款，或重复付款）")
    status: str = Field(
        description="awaiting_review 待审核（已发货订单的售后申请） / refused 已拒绝 / requested 已申请 / "
        "processing 退款中 / succeeded 已退款 / failed 退款失败"
    )
    refusal: str = Field("", description="拒绝原因（status 为 refused 时）")
    created_at: str
    succeeded_at: str | None
