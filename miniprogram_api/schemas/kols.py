"""KOLs (推广员), as the mini-program sends and reads them: the application, the KOL's home
page (status, tier and rates, code, links, the attribution rules, today's and this month's
figures), share links and codes. Money in fen; rates in basis points (500 = 5%); times
Beijing time."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class KolApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=32, description="姓名")
    phone: str = Field(min_length=11, max_length=11, description="手机号（11 位）")
    intro: str = Field(min_length=1, max_length=200, description="推广渠道与受众介绍（最多 200 字）")
    referrer_code: str = Field("", max_length=16, description="邀请您的推广员的推广码（可选）")


class KolOut(BaseModel):
    id: int
    name: str
    phone: str = Field(description="本人手机号")
    intro: str
    status: str = Field(description="applied 审核中；approved 已通过；refused 未通过；suspended 已暂停")
    reason: str = Field(description="未通过或暂停的原因")
    code: str = Field(description="推广码（通过后用于推广链接和二维码）")
    tier: str = Field(description="推广等级（通过后）")
    applied_at: str
    reviewed_at: str | None


class KolApplicationEnvelope(BaseModel):
    kol: KolOut


class KolCategoryRateOut(BaseModel):
    category_id: int
    category: str
    rate_bps: int


class KolTierOut(BaseModel):
    id: int
    name: str
    rate_bps: int = Field(description="默认佣金比例（基点，500 = 5%）")
    second_level_bps: int = Field(description="二级佣金比例（基点；开启两级推广时）")
    categories: list[KolCategoryRateOut] = Field(description="按类目的佣金比例（其子类目沿用）")


class KolFiguresOut(BaseModel):
    touches: int = Field(description="推广点击/扫码次数")
    follows: int = Field(description="新关注公众号")
    customers: int = Field(description="新客户")
    orders: int = Field(description="已付款订单")
    paid_gmv: int = Field(description="已付款金额（分）")
    commission_pending: int = Field(description="待结算佣金（分）")
    commission_earned: int = Field(description="已结算佣金（分）")
    commission_reversed: int = Field(description="已冲回佣金（分）")


class KolQrCodeOut(BaseModel):
    scene: str
    url: str = Field(description="二维码内容")
    image_url: str = Field(description="二维码图片")


class KolDashboardOut(BaseModel):
    """The KOL's home page; later parts may add their own keys (earnings) to this object."""

    model_config = ConfigDict(extra="allow")

    kol: KolOut
    tier: KolTierOut | None
    rules: list[str] = Field(description="订单归属规则（文字说明）")
    share_path: str | None = Field(description="首页推广链接（小程序页面路径）；通过后才有")
    mp_code_scene: str | None = Field(description="小程序码的 scene；通过后才有")
    qrcode: KolQrCodeOut | None = Field(description="公众号带参二维码（GET /kol/qrcode 生成后）")
    today: KolFiguresOut
    month: KolFiguresOut


class KolShareQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    path: str = Field(
        "", max_length=200, description="要分享的小程序页面，如 pages/product/detail?id=12；默认首页"
    )


class KolShareOut(BaseModel):
    code: str
    path: str = Field(description="带推广码的页面路径，如 pages/product/detail?id=12&ref=CODE")
