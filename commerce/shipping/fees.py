"""What delivery costs: the pricing step asks for one merchant's order to one province, and the
bot says when delivery is free. Both read the same rule: the merchant's template, or the
platform's default from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from commerce.config import Settings
from commerce.money import fen_to_yuan
from commerce.shipping.errors import ShippingError
from commerce.shipping.provinces import canonical_province
from commerce.shipping.templates import Template, default_template, template_of


@dataclass(frozen=True)
class ShippingQuote:
    """The delivery of one merchant's order: its fee in fen (0 when free), the goods amount
    from which it is free (None: never), and whether the merchant delivers there at all."""

    fee: int
    free_from: int | None
    deliverable: bool = True

    def payable_fee(self) -> int:
        """The fee, or the checkout's refusal when the merchant does not deliver there."""
        if not self.deliverable:
            raise ShippingError.UNDELIVERABLE.error()
        return self.fee


def quote(template: Template, *, items_total: int, province: str | None) -> ShippingQuote:
    """The rule applied: the province's own rule where it has one, else the template's."""
    rule = template.rule_for(canonical_province(province))
    if rule is not None and rule.undeliverable:
        return ShippingQuote(fee=0, free_from=None, deliverable=False)
    fee = template.fee if rule is None or rule.fee is None else rule.fee
    free_from = template.free_from
    if rule is not None:
        free_from = None if rule.never_free else (rule.free_from if rule.free_from is not None else free_from)
    if free_from is not None and items_total >= free_from:
        fee = 0
    return ShippingQuote(fee=fee, free_from=free_from)


async def shipping_fee(
    *, merchant_id: int, items_total: int, province: str | None, settings: Settings
) -> ShippingQuote:
    """The delivery of `items_total` fen of one merchant's goods to a province (None: not
    chosen yet, the template's general rule)."""
    template = await template_of(merchant_id=merchant_id, settings=settings)
    return quote(template, items_total=items_total, province=province)


def free_shipping_text(settings: Settings) -> str:
    """The platform's free-delivery promise ("满 99 元包邮"), "" when it makes none."""
    template = default_template(settings, merchant_id=0)
    if template.fee == 0:
        return "包邮"
    if template.free_from is None:
        return ""
    return f"满 {_yuan(template.free_from)} 元包邮"


def shipping_terms_text(settings: Settings) -> str:
    """The platform's rule in a sentence (zh-CN), as the FAQ answers "包邮吗"."""
    template = default_template(settings, merchant_id=0)
    if template.fee == 0:
        terms = "全场包邮。"
    elif template.free_from is None:
        terms = f"每单收取运费 {_yuan(template.fee)} 元。"
    else:
        free_from = _yuan(template.free_from)
        terms = f"商品金额满 {free_from} 元包邮，不满 {free_from} 元收取运费 {_yuan(template.fee)} 元。"
    return terms + "部分商家和地区另有运费规则，以下单页显示为准。"


def _yuan(fen: int) -> str:
    """99 for 9900, 99.5 for 9950: as people write a price in a sentence."""
    return fen_to_yuan(fen).removesuffix(".00").rstrip("0") if fen % 100 else str(fen // 100)
