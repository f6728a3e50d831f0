"""Leaders (团长) and the shopper's binding to one, as the mini-program sends and reads them.
Coordinates are WGS-84 degrees (wx.getLocation / wx.chooseLocation); times Beijing time."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class LeaderApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=32, description="团长姓名")
    phone: str = Field(min_length=11, max_length=11, description="手机号（11 位）")
    address: str = Field(min_length=1, max_length=200, description="自提点地址")
    latitude: float = Field(ge=-90, le=90, description="自提点纬度（WGS-84）")
    longitude: float = Field(ge=-180, le=180, description="自提点经度（WGS-84）")
    opening_hours: str = Field("", max_length=64, description="营业时间，如「每天 9:00-21:00」")
    point_name: str = Field("", max_length=64, description="自提点名称，不填为「姓名的自提点」")
    photo: str = Field("", max_length=500, description="自提点照片（先用 /leader/photos 上传得到的地址）")


class PointOut(BaseModel):
    id: int
    name: str
    address: str
    opening_hours: str
    latitude: float | None
    longitude: float | None
    open: bool


class LeaderApplicationOut(BaseModel):
    id: int
    name: str
    phone: str
    status: str = Field(description="applied 审核中；approved 已通过；refused 未通过；suspended 已暂停")
    reason: str = Field(description="未通过或暂停的原因")
    share_code: str = Field(description="团长码（通过后用于分享链接和二维码）")
    photo: str
    point: PointOut
    applied_at: str
    reviewed_at: str | None


class LeaderApplicationEnvelope(BaseModel):
    application: LeaderApplicationOut | None


class QrCodeOut(BaseModel):
    scene: str
    url: str = Field(description="二维码内容")
    image_url: str = Field(description="二维码图片")


class LeaderDashboardOut(BaseModel):
    """The leader's home page; later parts add their own keys (today's orders, the batch,
    earnings) to this object."""

    model_config = ConfigDict(extra="allow")

    leader: LeaderApplicationOut
    share_code: str
    share_path: str = Field(description="分享链接（小程序页面路径），打开即绑定该团长")
    qrcode: QrCodeOut | None = Field(description="公众号带参二维码，扫码关注即绑定；微信暂不可用时为 null")
    customers: int = Field(description="绑定的顾客数")
    today: dict[str, Any] | None = None
    batch: dict[str, Any] | None = None
    earnings: dict[str, Any] | None = None


class CustomersQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(1, ge=1, le=1000)
    page_size: int = Field(20, ge=1, le=50)


class CustomerOut(BaseModel):
    nickname: str = Field(description="昵称（已打码）")
    source: str = Field(description="qr 扫码；link 分享链接；chosen 自选自提点")
    bound_at: str


class CustomerPageOut(BaseModel):
    items: list[CustomerOut]
    total: int
    page: int
    page_size: int


class BindIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    share_code: str | None = Field(None, min_length=1, max_length=16, description="分享链接里的团长码")
    pickup_point_id: int | None = Field(None, ge=1, le=2**31 - 1, description="或：选择的团长自提点")


class MyLeaderOut(BaseModel):
    leader_id: int
    name: str
    point: PointOut
    source: str
    bound_at: str


class MyLeaderEnvelope(BaseModel):
    leader: MyLeaderOut | None
    changed: bool | None = Field(None, description="绑定时：是否换了团长（已绑定同一团长为 false）")


class NearestQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    limit: int = Field(10, ge=1, le=50)


class NearPointOut(BaseModel):
    leader_id: int
    leader_name: str
    point: PointOut
    distance_m: int = Field(description="距离（米）")


class NearestOut(BaseModel):
    items: list[NearPointOut]


class LeaderPhotoOut(BaseModel):
    url: str
