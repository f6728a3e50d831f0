"""The subscribe messages (订阅消息) a shopper may accept in the mini-program, for our notices."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SubscriptionsIn(BaseModel):
    """What wx.requestSubscribeMessage answered, passed on as it came."""

    model_config = ConfigDict(extra="forbid")

    results: dict[str, str] = Field(
        min_length=1,
        max_length=10,
        description="wx.requestSubscribeMessage 的结果：模板 id → accept / reject / ban / filter",
    )


class TemplateOut(BaseModel):
    notice: str = Field(description="group_result 拼团结果；pickup_ready 社区团购到货取货")
    title: str = Field(description="模板名称")
    template_id: str = Field(description="传给 wx.requestSubscribeMessage 的 tmplIds")
    credits: int = Field(description="已接受、尚未发送的条数")


class SubscriptionsOut(BaseModel):
    templates: list[TemplateOut]
