from tortoise import fields
from tortoise.models import Model


class ShippingTemplate(Model):
    """The shipping fee of one order of a merchant: a flat fee, free from an amount of goods,
    with rules for some provinces. A merchant without one pays the platform default (settings).
    Money in fen."""

    id = fields.IntField(primary_key=True)
    merchant = fields.OneToOneField(
        "models.Merchant", related_name="shipping_template", on_delete=fields.CASCADE
    )
    fee = fields.IntField()
    free_from = fields.IntField(null=True)  # goods from this amount ship free; None: never free
    version = fields.IntField(default=1)  # a save names the version it read: a stale form is refused
    updated_at = fields.DatetimeField()

    class Meta:
        table = "shipping_template"


class ShippingProvinceRule(Model):
    """How one province differs from its template: another fee, another free-from amount (or
    never free), or no delivery there at all."""

    id = fields.IntField(primary_key=True)
    template = fields.ForeignKeyField(
        "models.ShippingTemplate", related_name="provinces", on_delete=fields.CASCADE
    )
    province = fields.CharField(max_length=16)  # a full name of provinces.PROVINCES
    fee = fields.IntField(null=True)  # None: the template's fee
    free_from = fields.IntField(null=True)  # None: the template's amount (unless never_free)
    never_free = fields.BooleanField(default=False)
    undeliverable = fields.BooleanField(default=False)

    class Meta:
        table = "shipping_province_rule"
        unique_together = (("template", "province"),)
