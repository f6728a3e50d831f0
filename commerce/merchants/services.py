"""Merchant use cases needed so far: the platform's default merchant for imports and the demo."""

from __future__ import annotations

from commerce.merchants.models import Merchant

DEFAULT_MERCHANT_CODE = "self"
DEFAULT_MERCHANT_NAME = "平台自营"


async def ensure_merchant(*, code: str = DEFAULT_MERCHANT_CODE, name: str = DEFAULT_MERCHANT_NAME) -> int:
    """The id of the merchant with this code, created on first use."""
    merchant, _ = await Merchant.get_or_create(code=code, defaults={"name": name})
    return merchant.id


async def merchant_ids_by_code() -> dict[str, int]:
    """Every merchant's id by its code (importers resolve a "merchant" column with it)."""
    return dict(await Merchant.all().values_list("code", "id"))
