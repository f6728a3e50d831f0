"""Reads for shoppers: the category tree, product listing and search, product detail."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from commerce.catalog.errors import CatalogError
from commerce.catalog.models import Category, Product, Sku
from commerce.catalog.search import CatalogSearch, ProductCard, SearchParams
from commerce.catalog.states import ProductStatus, SortOrder
from commerce.db import fetch_rows
from commerce.errors import CommonError
from commerce.merchants.states import MerchantStatus

MAX_PAGE_SIZE = 100


@dataclass
class CategoryNode:
    id: int
    name: str
    level: int
    children: list[CategoryNode] = field(default_factory=list)


@dataclass(frozen=True)
class ProductPage:
    items: list[ProductCard]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class SkuView:
    id: int
    sku_code: str
    specs: dict[str, str]
    price: int
    market_price: int
    stock: int


@dataclass(frozen=True)
class CategoryRef:
    id: int
    name: str
    path_names: list[str]  # from the root: ["数码", "手机", "5G手机"]


@dataclass(frozen=True)
class ProductDetail:
    id: int
    title: str
    subtitle: str
    description: str
    images: list[str]
    video_url: str
    category: CategoryRef
    spec_axes: list[dict]
    skus: list[SkuView]
    min_price: int
    max_price: int
    sales: int
    in_stock: bool
    created_at: datetime


async def category_tree() -> list[CategoryNode]:
    """Every category, as a tree ordered by sort then name."""
    rows = await Category.all().order_by("level", "sort", "id").values("id", "name", "level", "parent_id")
    nodes = {row["id"]: CategoryNode(row["id"], row["name"], row["level"]) for row in rows}
    roots: list[CategoryNode] = []
    for row in rows:
        parent = nodes.get(row["parent_id"]) if row["parent_id"] else None
        (parent.children if parent else roots).append(nodes[row["id"]])
    return roots


async def list_products(
    search: CatalogSearch,
    *,
    text: str = "",
    category_id: int | None = None,
    min_price: int | None = None,
    max_price: int | None = None,
    in_stock: bool = False,
    sort: SortOrder = SortOrder.RELEVANCE,
    page: int = 1,
    page_size: int = 20,
) -> ProductPage:
    """On-sale products matching the text and filters, one page of them."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise CommonError.INVALID_REQUEST.error("分页参数有误")
    await search.refresh_if_changed()
    category_path = None
    if category_id is not None:
        category_path = await search.category_path(category_id)
        if category_path is None:
            raise CatalogError.CATEGORY_NOT_FOUND.error()
    hits = await search.search(
        SearchParams(
            text=text.strip(),
            category_path=category_path,
            min_price=min_price,
            max_price=max_price,
            in_stock=in_stock,
            sort=sort,
            offset=(page - 1) * page_size,
            limit=page_size,
        )
    )
    return ProductPage(items=hits.items, total=hits.total, page=page, page_size=page_size)


async def product_detail(search: CatalogSearch, product_id: int) -> ProductDetail:
    """An on-sale product with its SKUs; anything else is not found.

    Served from the index's cache while the product is unchanged: stock shown here may trail
    by the index's refresh interval (orders reserve stock atomically whatever the page said).
    """
    await search.refresh_if_changed()
    if not search.is_listed(product_id):
        raise CatalogError.PRODUCT_NOT_FOUND.error()
    cached = search.cached_detail(product_id)
    if isinstance(cached, ProductDetail):
        return cached
    detail = await _load_detail(product_id)
    search.cache_detail(product_id, detail)
    return detail


async def _load_detail(product_id: int) -> ProductDetail:
    product = await Product.get_or_none(
        id=product_id, status=ProductStatus.ON_SALE, merchant__status=MerchantStatus.ACTIVE
    )
    if product is None:
        raise CatalogError.PRODUCT_NOT_FOUND.error()
    skus = await Sku.filter(product_id=product.id, retired_at=None).order_by("id")
    category = await Category.get(id=product.category_id)
    ancestor_ids = [int(part) for part in category.path.strip("/").split("/") if part]
    names = dict(await Category.filter(id__in=ancestor_ids).values_list("id", "name"))
    return ProductDetail(
        id=product.id,
        title=product.title,
        subtitle=product.subtitle,
        description=product.description,
        images=list(product.images),
        video_url=product.video_url,
        category=CategoryRef(category.id, category.name, [names[i] for i in ancestor_ids if i in names]),
        spec_axes=list(product.spec_axes),
        skus=[
            SkuView(sku.id, sku.sku_code, dict(sku.specs), sku.price, sku.market_price, sku.stock)
            for sku in skus
        ],
        min_price=product.min_price,
        max_price=product.max_price,
        sales=product.sales,
        in_stock=any(sku.stock > 0 for sku in skus),
        created_at=product.created_at,
    )


@dataclass(frozen=True)
class SkuSnapshot:
    """What a cart or an order needs to know about a SKU right now."""

    sku_id: int
    product_id: int
    sku_code: str
    title: str
    specs: dict[str, str]
    image: str
    price: int  # fen
    stock: int
    on_sale: bool
    merchant_id: int = 0  # who sells it now (an order stamps it on its lines)


async def sku_snapshots(sku_ids: list[int]) -> dict[int, SkuSnapshot]:
    """Current price, stock and sale status of these SKUs (missing and retired ids are absent:
    shoppers see neither), one query.

    Hand-written SQL: checkout and ordering call this on every request, and building the
    join through the ORM cost more than the query itself.
    """
    ids = sorted(set(sku_ids))
    if not ids:
        return {}
    rows = await fetch_rows(
        "SELECT s.`id`, s.`product_id`, s.`sku_code`, s.`specs`, s.`price`, s.`stock`,"
        " p.`title`, p.`images`, p.`status`, p.`merchant_id`, m.`status` AS merchant_status"
        " FROM `sku` s JOIN `product` p ON p.`id` = s.`product_id`"
        " JOIN `merchant` m ON m.`id` = p.`merchant_id`"
        f" WHERE s.`id` IN ({', '.join('?' for _ in ids)}) AND s.`retired_at` IS NULL",
        ids,
    )
    return {
        row["id"]: SkuSnapshot(
            sku_id=row["id"],
            product_id=row["product_id"],
            sku_code=row["sku_code"],
            title=row["title"],
            specs=dict(_json(row["specs"])),
            image=(_json(row["images"]) or [""])[0],
            price=row["price"],
            stock=row["stock"],
            # A suspended merchant's products cannot be bought, whatever their own status.
            on_sale=row["status"] == ProductStatus.ON_SALE
            and row["merchant_status"] == MerchantStatus.ACTIVE,
            merchant_id=row["merchant_id"],
        )
        for row in rows
    }


async def sku_ids_by_code(codes: list[str]) -> dict[str, int]:
    """The ids of the live SKUs with these codes (the demo seed names SKUs by code)."""
    if not codes:
        return {}
    rows = await Sku.filter(sku_code__in=codes, retired_at__isnull=True).values_list("sku_code", "id")
    return dict(rows)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


async def category_chains_of(category_ids: list[int]) -> dict[int, list[int]]:
    """Each existing category's id and its ancestors', nearest first."""
    rows = await Category.filter(id__in=list(category_ids)).values("id", "path")
    return {row["id"]: [int(p) for p in reversed(row["path"].strip("/").split("/")) if p] for row in rows}


async def category_chains(product_ids: list[int]) -> dict[int, list[int]]:
    """Each product's category and its ancestors, nearest first (the commission's lookup)."""
    if not product_ids:
        return {}
    marks = ", ".join("?" for _ in product_ids)
    rows = await fetch_rows(
        "SELECT p.`id`, c.`path` FROM `product` p JOIN `category` c ON c.`id` = p.`category_id`"
        f" WHERE p.`id` IN ({marks})",
        list(product_ids),
    )
    return {
        row["id"]: [int(part) for part in reversed(row["path"].strip("/").split("/")) if part] for row in rows
    }


@dataclass(frozen=True)
class CategoryLine:
    id: int
    name: str  # from the root: "食品 > 茶叶"
    chain: list[int]  # its id and its ancestors', nearest first


async def category_lines() -> list[CategoryLine]:
    """Every category with its full name and ancestry, by full name."""
    rows = await Category.all().values("id", "name", "path")
    names = {row["id"]: row["name"] for row in rows}
    lines = []
    for row in rows:
        ids = [int(part) for part in row["path"].strip("/").split("/") if part]
        lines.append(CategoryLine(row["id"], " > ".join(names.get(i, "?") for i in ids), ids[::-1]))
    return sorted(lines, key=lambda line: line.name)
