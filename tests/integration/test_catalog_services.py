"""Catalog write rules: validation, status lifecycle, derived prices, change stamps."""

import asyncio
from datetime import timedelta

import pytest

from commerce import clock
from commerce.catalog import services
from commerce.catalog.models import Category, Product, Sku
from commerce.catalog.services import ProductInput, SkuInput
from commerce.catalog.states import ProductStatus
from commerce.errors import CommerceError
from commerce.merchants.services import ensure_merchant
from commerce.outbox import OutboxEvent


async def _product(**overrides) -> ProductInput:
    category_id = await services.ensure_category_path(names=["数码", "手机", "5G手机"])
    values = {
        "spu_code": "P1",
        "title": "Apple iPhone 15",
        "category_id": category_id,
        "merchant_id": await ensure_merchant(),
        "status": ProductStatus.ON_SALE,
        "skus": [
            SkuInput("P1-1", {"颜色": "黑色", "容量": "128GB"}, price=599900, stock=3),
            SkuInput("P1-2", {"颜色": "白色", "容量": "256GB"}, price=699900, stock=0),
        ],
    }
    return ProductInput(**{**values, **overrides})


async def _code_of(call) -> str:
    with pytest.raises(CommerceError) as caught:
        await call
    return caught.value.code


async def test_prices_stock_and_axes_are_derived_from_the_skus(db):
    result = await services.upsert_product(product=await _product())
    product = await Product.get(id=result.product_id)
    assert (product.min_price, product.max_price, product.total_stock) == (599900, 699900, 3)
    assert product.spec_axes == [
        {"name": "颜色", "values": ["黑色", "白色"]},
        {"name": "容量", "values": ["128GB", "256GB"]},
    ]
    assert await OutboxEvent.filter(topic="catalog.product_changed").count() == 1


@pytest.mark.parametrize(
    ("skus", "code"),
    [
        ([], "no_skus"),
        ([SkuInput("A", {"颜色": "黑"}, 1), SkuInput("B", {"容量": "1"}, 1)], "invalid_specs"),
        ([SkuInput("A", {"颜色": "黑"}, 1), SkuInput("B", {"颜色": "黑"}, 1)], "duplicate_sku_specs"),
        ([SkuInput("A", {}, 1), SkuInput("B", {}, 2)], "invalid_specs"),
        ([SkuInput("A", {}, -1)], "invalid_price"),
        ([SkuInput("A", {}, 1, stock=-2)], "invalid_stock"),
        ([SkuInput("A", {}, 1), SkuInput("A", {"x": "y"}, 1)], "invalid_specs"),
    ],
)
async def test_bad_skus_are_refused(db, skus, code):
    assert await _code_of(services.upsert_product(product=await _product(skus=skus))) == code
    assert await Product.all().count() == 0


async def test_a_sku_code_of_another_product_is_refused(db):
    await services.upsert_product(product=await _product())
    other = await _product(spu_code="P2", skus=[SkuInput("P1-1", {}, 100)])
    assert await _code_of(services.upsert_product(product=other)) == "sku_code_taken"


async def test_a_sku_only_change_moves_the_product_stamp_and_dropped_skus_go(db):
    first = await services.upsert_product(product=await _product())
    before = (await Product.get(id=first.product_id)).updated_at
    with clock.frozen(clock.now() + timedelta(minutes=1)):
        only_one = await _product(
            skus=[SkuInput("P1-1", {"颜色": "黑色", "容量": "128GB"}, price=549900, stock=3)]
        )
        await services.upsert_product(product=only_one)
    product = await Product.get(id=first.product_id)
    assert product.updated_at > before
    assert (product.min_price, product.max_price) == (549900, 549900)
    assert await Sku.filter(product_id=product.id).count() == 1


async def test_status_moves_only_along_the_lifecycle(db):
    result = await services.upsert_product(product=await _product(status=ProductStatus.DRAFT))
    pid = result.product_id
    assert await services.change_product_status(product_id=pid, new_status=ProductStatus.ON_SALE)
    # again: fine, and it says nothing moved
    assert not await services.change_product_status(product_id=pid, new_status=ProductStatus.ON_SALE)
    code = await _code_of(services.change_product_status(product_id=pid, new_status=ProductStatus.DRAFT))
    assert code == "invalid_status_transition"
    await services.change_product_status(product_id=pid, new_status=ProductStatus.OFF_SHELF)
    assert (await Product.get(id=pid)).status == ProductStatus.OFF_SHELF
    missing = await _code_of(
        services.change_product_status(product_id=99999, new_status=ProductStatus.ON_SALE)
    )
    assert missing == "product_not_found"


async def test_racing_importers_create_each_category_once(db):
    paths = [["食品生鲜", "水果", "柑橘"]] * 8 + [["食品生鲜", "水果", "苹果"]] * 4
    ids = await asyncio.gather(*(services.ensure_category_path(names=p) for p in paths))
    assert len(set(ids[:8])) == 1 and len(set(ids[8:])) == 1
    assert await Category.all().count() == 4
    leaf = await Category.get(id=ids[0])
    root = await Category.get(name="食品生鲜")
    assert leaf.path.startswith(f"/{root.id}/") and leaf.level == 3


@pytest.mark.parametrize("names", [[], ["数码", ""], ["a", "b", "c", "d"], ["长" * 51]])
async def test_bad_category_paths_are_refused(db, names):
    assert await _code_of(services.ensure_category_path(names=names)) == "invalid_category"
