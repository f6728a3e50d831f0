"""Cart, address and checkout shapes. Money is integer fen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


class CheckoutIn(Strict):
    items: list[CheckoutItemIn] | None = Field(None, min_length=1, max_length=50)
    from_cart: bool = False
    address_id: int | None = Field(None, ge=1, le=MAX_ID)


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


class PreviewOut(BaseModel):
    groups: list[MerchantGroupOut] = Field(description="每个商家一笔订单（提交后各自发货、售后）")
    lines: list[PricedLineOut]
    items_total: int
    shipping_fee: int
    discounts: list[AdjustmentOut]
    discount_total: int
    payable: int
    address: AddressOut | None
    problems: list[LineProblemOut]
    order_problem: OrderProblemOut | None  # why the whole order cannot be submitted
    can_submit: bool
