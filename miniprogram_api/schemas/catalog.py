"""Catalog request and response shapes. Money is integer fen; times are ISO 8601 in Asia/Shanghai."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from commerce.catalog.states import SortOrder
from commerce.money import MAX_FEN

MAX_ID = 2**31 - 1  # ids are 32-bit in the database: anything larger is refused, not looked up


class ProductListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    q: str = Field("", max_length=100, description="搜索词，如「苹果手机」「蓝牙耳机」")
    category_id: int | None = Field(None, ge=1, le=MAX_ID, description="分类 id，含子分类")
    min_price: int | None = Field(None, ge=0, le=MAX_FEN, description="最低价（分）")
    max_price: int | None = Field(None, ge=0, le=MAX_FEN, description="最高价（分）")
    in_stock: bool = Field(False, description="只看有货")
    sort: SortOrder = Field(SortOrder.RELEVANCE, description="排序")
    page: int = Field(1, ge=1, le=1000)
    page_size: int = Field(20, ge=1, le=100)


class CategoryOut(BaseModel):
    id: int
    name: str
    level: int
    children: list[CategoryOut]


class CategoryListOut(BaseModel):
    items: list[CategoryOut]


class ProductCardOut(BaseModel):
    id: int
    title: str
    subtitle: str
    image: str
    category_id: int
    min_price: int = Field(description="最低价（分）")
    max_price: int = Field(description="最高价（分）")
    market_price: int = Field(description="划线价（分），0 表示无")
    sales: int
    in_stock: bool


class ProductPageOut(BaseModel):
    items: list[ProductCardOut]
    total: int
    page: int
    page_size: int


class SkuOut(BaseModel):
    id: int
    sku_code: str
    specs: dict[str, str]
    price: int = Field(description="价格（分）")
    market_price: int = Field(description="划线价（分）")
    stock: int


class SpecAxisOut(BaseModel):
    name: str
    values: list[str]


class CategoryRefOut(BaseModel):
    id: int
    name: str
    path_names: list[str]


class ProductDetailOut(BaseModel):
    id: int
    title: str
    subtitle: str
    description: str
    images: list[str]
    video_url: str
    category: CategoryRefOut
    spec_axes: list[SpecAxisOut]
    skus: list[SkuOut]
    min_price: int
    max_price: int
    sales: int
    in_stock: bool
