"""`shop seed-demo`: the demo catalog, loaded through the same importer merchants use."""

from __future__ import annotations

from commerce.catalog.demo_data import SECOND_MERCHANT, demo_rows
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Product
from commerce.config import Settings
from commerce.merchants.services import ensure_merchant


async def seed_demo_catalog() -> int:
    """Load the demo catalog on an initialised database; the number of products loaded."""
    await ensure_merchant()
    await ensure_merchant(code=SECOND_MERCHANT, name="鲜果数码专营店")
    report = await import_rows(demo_rows())
    if report.problems:  # the demo data is ours: a problem is a bug, not something to skip
        raise RuntimeError(f"demo catalog has bad rows: {report.problems[:3]}")
    return report.created_products + report.updated_products


async def seed_demo(settings: Settings, *, only_if_empty: bool) -> int:
    from commerce.core import no_subscribers, open_core

    async with open_core(settings, no_subscribers, build_search_index=False):
        if only_if_empty and await Product.exists():
            return 0
        return await seed_demo_catalog()
