"""A touch of a KOL's code (推广), as the mini-program sends it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TouchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=16, description="推广码（链接的 ref、小程序码 scene 中的码）")
    channel: Literal["link", "mp_code", "share"] = Field(
        description="link 打开推广链接；mp_code 扫小程序码进入；share 其他用户转发的推广链接"
    )
    path: str = Field("", max_length=128, description="进入的页面，如 pages/product/detail?id=12")
    visitor: str = Field("", max_length=64, description="匿名访客 ID（小程序本地生成并保存）")
    device: str = Field("", max_length=64, description="设备标识（wx.getDeviceInfo 的型号等）")
    sharer: int | None = Field(
        None, ge=1, le=2_147_483_647, description="转发者的用户 ID（channel 为 share 时，链接中带的 sharer）"
    )


class TouchOut(BaseModel):
    accepted: bool = Field(description="已记录（稍后写入统计）")
