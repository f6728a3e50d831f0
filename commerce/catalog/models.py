from tortoise import fields
from tortoise.models import Model

from commerce.catalog.states import ProductStatus


class Category(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50)
    parent: fields.ForeignKeyNullableRelation["Category"] = fields.ForeignKeyField(
        "models.Category", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    # The parent's id, 0 for a root: unique with the name, since SQL's unique ignores NULLs
    # and two importers could otherwise both create the root "数码".
    parent_key = fields.IntField(default=0)
    level = fields.SmallIntField()  # 1 for a root
    # Ancestor ids and own id, "/1/5/23/": descendants match by prefix in one query.
    path = fields.CharField(max_length=255, db_index=True)
    sort = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "category"
        unique_together = (("parent_key", "name"),)


class Product(Model):
    """A product (SPU): what a shopper sees as one item, sold as one or more SKUs."""

    id = fields.IntField(primary_key=True)
    merchant = fields.ForeignKeyField("models.Merchant", related_name="products", on_delete=fields.RESTRICT)
    category = fields.ForeignKeyField("models.Category", related_name="products", on_delete=fields.RESTRICT)
    spu_code = fields.CharField(max_length=64, unique=True)
    title = fields.CharField(max_length=120)
    subtitle = fields.CharField(max_length=200, default="")
    description = fields.TextField(default="")
    images: list[str] = fields.JSONField(default=list)
    video_url = fields.CharField(max_length=500, default="")
    status = fields.CharEnumField(ProductStatus, max_length=16, default=ProductStatus.DRAFT, db_index=True)
    # Spec axes in display order: [{"name": "颜色", "values": ["黑色", "白色"]}]; [] for one SKU.
    spec_axes: list[dict] = fields.JSONField(default=list)
    # Kept in step with the SKUs by the catalog services, for listing, filters and sorting.
    min_price = fields.BigIntField(default=0)  # fen
    max_price = fields.BigIntField(default=0)  # fen
    total_stock = fields.IntField(default=0)
    sales = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Moved by every change to the product or its SKUs: search indexes in every process watch it.
    updated_at = fields.DatetimeField(auto_now=True, db_index=True)

    class Meta:
        table = "product"
        indexes = (("status", "category_id"),)


class Sku(Model):
    """One buyable combination of spec values, with its own price and stock."""

    id = fields.IntField(primary_key=True)
    product = fields.ForeignKeyField("models.Product", related_name="skus", on_delete=fields.CASCADE)
    sku_code = fields.CharField(max_length=64, unique=True)
    specs: dict[str, str] = fields.JSONField(default=dict)  # {"颜色": "黑色", "容量": "128GB"}
    price = fields.BigIntField()  # fen
    market_price = fields.BigIntField(default=0)  # fen, the crossed-out price; 0 when none
    stock = fields.IntField(default=0)  # changed only by atomic conditional updates
    weight_g = fields.IntField(default=0)
    # Set by the first order that reserves it: from then on orders refer to it, so it is never
    # deleted, only retired.
    ever_ordered = fields.BooleanField(default=False, db_default=False)
    # Left the catalog (re-imported without its row, removed in the form) while orders held it:
    # off sale and hidden from shoppers for good, kept for history; its stock is no longer in
    # the product's total. None: part of the catalog.
    retired_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sku"
