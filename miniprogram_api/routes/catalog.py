"""Categories, product listing and search, product detail: public, no login needed."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web

from commerce.catalog import queries
from commerce.catalog.queries import CategoryNode
from commerce.catalog.search import ProductCard
from miniprogram_api.keys import CORE
from miniprogram_api.routing import Router, path_id
from miniprogram_api.schemas.catalog import (
    CategoryListOut,
    ProductDetailOut,
    ProductListQuery,
    ProductPageOut,
)

router = Router()
TAG = "商品"


@router.get("/categories", summary="分类树", tag=TAG, response=CategoryListOut)
async def list_categories(request: web.Request) -> dict[str, Any]:
    return {"items": [_category(node) for node in await queries.category_tree()]}


@router.get("/products", summary="商品列表与搜索", tag=TAG, query=ProductListQuery, response=ProductPageOut)
async def list_products(request: web.Request, *, query: ProductListQuery) -> dict[str, Any]:
    page = await queries.list_products(
        request.app[CORE].search,
        text=query.q,
        category_id=query.category_id,
        min_price=query.min_price,
        max_price=query.max_price,
        in_stock=query.in_stock,
        sort=query.sort,
        page=query.page,
        page_size=query.page_size,
    )
    return {
        "items": [_card(card) for card in page.items],
        "total": page.total,
        "page": page.page,
        "page_size": page.page_size,
    }


@router.get("/products/{id}", summary="商品详情", tag=TAG, response=ProductDetailOut)
async def get_product(request: web.Request) -> dict[str, Any]:
    detail = await queries.product_detail(request.app[CORE].search, path_id(request))
    body = asdict(detail)
    del body["created_at"]
    return body


def _category(node: CategoryNode) -> dict[str, Any]:
    return {
        "id": node.id,
        "name": node.name,
        "level": node.level,
        "children": [_category(child) for child in node.children],
    }


def _card(card: ProductCard) -> dict[str, Any]:
    return {
        "id": card.id,
        "title": card.title,
        "subtitle": card.subtitle,
        "image": card.image,
        "category_id": card.category_id,
        "min_price": card.min_price,
        "max_price": card.max_price,
        "market_price": card.market_price,
        "sales": card.sales,
        "in_stock": card.in_stock,
    }
