from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from commerce.orders.states import OrderStatus
from miniprogram_api.schemas.aftersales import AfterSaleOut
from miniprogram_api.schemas.payments import RefundOut
from miniprogram_api.schemas.shopping import CheckoutIn


class OrderIn(CheckoutIn):
    """The same choice as the preview: items, or the cart's selected lines, and an address
    (delivery) or a pickup point with a contact or an address (pickup)."""


class OrderListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: OrderStatus | None = None
    page: int = Field(1, ge=1, le=1000)
    page_size: int = Field(20, ge=1, le=50)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=100)


class OrderLineOut(BaseModel):
    sku_id: int
    product_id: int
    title: str
    specs: dict[str, str]
    image: str
    unit_price: int
    quantity: int
    line_total: int
    discount: int
    payable: int


class OrderAddressOut(BaseModel):
    receiver_name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str


class FulfilmentOut(BaseModel):
    """How the order reaches the shopper: express, pickup at a point, or none (virtual goods)."""

    kind: str = Field(description="express 快递；pickup 到店自提；none 无需配送（虚拟商品）")
    status: str = Field(
        description="awaiting 待备货（下单时选择了自提点）/ shipped 已发货 / delivered 已送达 / "
        "ready 待自提 / picked_up 已自提 / fulfilled 已完成"
    )
    carrier: str = Field(description="快递公司（快递）")
    tracking_no: str = Field(description="运单号（快递）")
    pickup_point_id: int | None = Field(description="自提点（自提）")
    pickup_point_name: str = Field(description="自提点名称（自提）")
    pickup_point_address: str = Field(description="自提点地址（自提）")
    pickup_point_hours: str = Field(description="自提点营业时间（自提）")
    pickup_code: str = Field(description="提货码，待自提时向自提点出示；提货后为空")


class OrderGroupOut(BaseModel):
    id: int
    status: str = Field(description="forming 拼团中；succeeded 已成团；failed 未成团")
    seats_left: int
    seconds_left: int
    share_path: str = Field(description="分享给好友参团的小程序页面")


class OrderOut(BaseModel):
    id: int
    order_no: str
    status: OrderStatus
    status_label: str = Field(description="状态（中文），如 待支付、待成团、待发货")
    lines: list[OrderLineOut]
    items_total: int
    shipping_fee: int
    discount_total: int
    payable: int = Field(description="应付（分）")
    address: OrderAddressOut
    pay_deadline: str = Field(description="支付截止时间（北京时间，ISO 8601）")
    created_at: str = Field(description="下单时间（北京时间，ISO 8601）")
    paid_at: str | None = Field(description="支付时间（北京时间）")
    carrier: str = Field(description="快递公司，未发货为空")
    tracking_no: str = Field(description="运单号，未发货为空")
    shipped_at: str | None = Field(description="发货时间（北京时间）")
    completed_at: str | None = Field(description="完成时间（北京时间）")
    fulfilment: FulfilmentOut | None = Field(default=None, description="履约（发货或自提）信息，未安排为空")
    refunds: list[RefundOut] = Field(
        default_factory=list, description="退款记录（订单详情、支付与退款接口返回；列表接口为空）"
    )
    aftersales: list[AfterSaleOut] = Field(
        default_factory=list, description="该订单的售后申请（订单详情返回；列表接口为空）"
    )
    group: OrderGroupOut | None = Field(None, description="拼团订单所在的团（订单详情返回）")
    can_request_aftersale: bool = Field(
        False, description="现在能否申请售后（订单详情返回；可申请的内容见 /orders/{id}/aftersales/options）"
    )


class CheckoutOut(BaseModel):
    """One submission: an order per merchant, paid together by one WeChat Pay transaction."""

    id: int
    checkout_no: str = Field(description="结算单号")
    payable: int = Field(description="各订单应付合计（分），一次支付")
    pay_deadline: str = Field(description="支付截止时间（北京时间，ISO 8601）")
    orders: list[OrderOut] = Field(description="每个商家一笔订单")


class PlacedOrderOut(OrderOut):
    """The first order's fields (the only order when one merchant sells everything), and the
    checkout holding every merchant's order."""

    checkout: CheckoutOut


class OrderPageOut(BaseModel):
    items: list[OrderOut]
    total: int
    page: int
    page_size: int
