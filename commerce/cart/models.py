from tortoise import fields
from tortoise.models import Model


class CartItem(Model):
    """One SKU in the cart of a shopper. Adding the same SKU again raises the quantity."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="cart_items", on_delete=fields.CASCADE)
    sku = fields.ForeignKeyField("models.Sku", related_name="cart_items", on_delete=fields.CASCADE)
    quantity = fields.IntField()
    selected = fields.BooleanField(default=True)  # included in checkout from the cart
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "cart_item"
        unique_together = (("user_id", "sku_id"),)
