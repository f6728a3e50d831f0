"""Cart, address and checkout shapes. Money is integer fen."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from commerce.fulfilment.choice import Contact, FulfilmentChoice
from commerce.fulfilment.states import FulfilmentKind
from commerce.pricing.pipeline import Choices, GroupChoice
from miniprogram_api.schemas.catalog import MAX_ID

Quantity = Field(ge=1, le=999, description="件数，1-999")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CartItemIn(Strict):
    sku_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Quantity


class CartItemPatch(Strict):
    quantity: int | None = Field(None, ge=1, le=999)
    selected: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> CartItemPatch:
        if self.quantity is None and self.selected is None:
            raise ValueError("quantity 或 selected 至少提供一个")
        return self


class CartLineOut(BaseModel):
    id: int
    sku_id: int
    product_id: int
    title: str
    specs: dict[str, str]
    image: str
    price: int = Field(description="现价（分）")
    quantity: int
    selected: bool
    stock: int
    state: str = Field(description="ok / off_shelf / out_of_stock / exceeds_stock")
    buyable: bool


class CartOut(BaseModel):
    lines: list[CartLineOut]
    selected_quantity: int
    selected_total: int = Field(description="已选商品金额（分），不含运费与优惠")


class AddressIn(Strict):
    receiver_name: str = Field(min_length=1, max_length=32)
    phone: str = Field(min_length=11, max_length=11)
    province: str = Field(min_length=1, max_length=32)
    city: str = Field(min_length=1, max_length=32)
    district: str = Field(min_length=1, max_length=32)
    detail: str = Field(min_length=1, max_length=120)
    is_default: bool = False


class AddressOut(BaseModel):
    id: int
    receiver_name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    is_default: bool


class AddressListOut(BaseModel):
    items: list[AddressOut]


class CheckoutItemIn(Strict):
    sku_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Quantity


class FulfilmentIn(Strict):
    kind: Literal["express", "pickup"] = Field(
        "express", description="express 快递配送（默认）；pickup 到店自提"
    )
    pickup_point_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="自提点（pickup 必填），取自结算预览的 pickup_points"
    )

    @model_validator(mode="after")
    def _point_for_pickup(self) -> FulfilmentIn:
        if self.kind == "pickup" and self.pickup_point_id is None:
            raise ValueError("到店自提请选择自提点 pickup_point_id")
        return self


class ContactIn(Strict):
    name: str = Field(min_length=1, max_length=32, description="提货人姓名")
    phone: str = Field(pattern=r"^1[0-9]{10}$", description="提货人手机号（11 位）")


class GroupIn(Strict):
    deal_id: int = Field(ge=1, le=MAX_ID, description="拼团活动")
    group_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="参加的团（分享链接里的团）；不填则开新团。团已满时为你开一个新团"
    )


class CheckoutIn(Strict):
    items: list[CheckoutItemIn] | None = Field(None, min_length=1, max_length=50)
    from_cart: bool = False
    address_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="收货地址（快递必填）；自提时可代替 contact，仅取其收货人与手机号"
    )
    fulfilment: FulfilmentIn | None = Field(
        None,
        description="配送方式，缺省为快递。自提：不收运费；多个商家的商品一起结算时只能选平台自提点"
        "（错误码 pickup_point_not_serving）；自提点已停用为 pickup_point_not_found",
    )
    contact: ContactIn | None = Field(
        None,
        description="自提的提货人；不填则用 address_id 的收货人与手机号，"
        "两者都没有时不能提交（pickup_contact_required）",
    )
    group: GroupIn | None = Field(
        None,
        description="拼团：按拼团价购买 items 里唯一的一件拼团商品（group_deal_one_line），"
        "支付后订单为“待成团”（grouping），满员后一起发货，到时未成团全额退款",
    )
    community_sale_id: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="在某场社区团购中下单：商品按团购价，须选择团长自提点（community_pickup_required、"
        "community_point_not_leaders）；已截单为 community_sale_closed",
    )

    @model_validator(mode="after")
    def _one_line_for_a_group(self) -> CheckoutIn:
        if self.group is not None and (self.items is None or len(self.items) != 1):
            raise ValueError("拼团下单只能包含一件拼团商品（items 一项，不能从购物车结算）")
        if self.group is not None and self.community_sale_id is not None:
            raise ValueError("拼团与社区团购不能在同一笔订单中")
        return self

    def choices(self) -> Choices:
        group = self.group and GroupChoice(deal_id=self.group.deal_id, group_id=self.group.group_id)
        return Choices(group=group, community_sale_id=self.community_sale_id)

    def fulfilment_choice(self) -> FulfilmentChoice | None:
        if self.fulfilment is None:
            return None
        return FulfilmentChoice(FulfilmentKind(self.fulfilment.kind), self.fulfilment.pickup_point_id)

    def contact_value(self) -> Contact | None:
        return Contact(name=self.contact.name, phone=self.contact.phone) if self.contact else None


class PricedLineOut(BaseModel):
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


class AdjustmentOut(BaseModel):
    kind: str
    label: str
    amount: int


class LineProblemOut(BaseModel):
    sku_id: int
    state: str
    message: str


class OrderProblemOut(BaseModel):
    code: str  # e.g. payable_too_large
    message: str


class MerchantGroupOut(BaseModel):
    """One merchant's order in the checkout: its lines, shipping and discounts."""

    merchant_id: int
    lines: list[PricedLineOut]
    items_total: int
    shipping_fee: int
    discounts: list[AdjustmentOut]
    discount_total: int
    payable: int


class PickupPointOut(BaseModel):
    id: int
    name: str
    address: str
    opening_hours: str = Field(description="营业时间，可为空")


class FulfilmentChoiceOut(BaseModel):
    kind: str = Field(description="express 快递配送 / pickup 到店自提")
    pickup_point: PickupPointOut | None = Field(description="选择的自提点（自提）")


class PreviewOut(BaseModel):
    groups: list[MerchantGroupOut] = Field(description="每个商家一笔订单（提交后各自发货、售后）")
    lines: list[PricedLineOut]
    items_total: int
    shipping_fee: int
    discounts: list[AdjustmentOut]
    discount_total: int
    payable: int
    address: AddressOut | None = Field(description="收货地址；自提时为提货人（仅姓名与手机号，id 为 0）")
    problems: list[LineProblemOut]
    order_problem: OrderProblemOut | None  # why the whole order cannot be submitted
    can_submit: bool
    fulfilment: FulfilmentChoiceOut = Field(description="本次结算的配送方式")
    pickup_points: list[PickupPointOut] = Field(
        description="可选的自提点：平台自提点，以及只有一个商家时该商家的自提点"
    )
