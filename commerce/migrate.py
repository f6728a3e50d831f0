"""Bring the database schema up to date with the migrations in commerce/migrations, then let the
books catch up with money that moved before they existed."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate

from commerce.config import Settings
from commerce.db import tortoise_config
from commerce.ledger import backfill
from commerce.ledger import queries as ledger


async def migrate_database(settings: Settings) -> backfill.CaughtUp:
    """Apply every pending migration (idempotent: nothing to do is fine); then post the books'
    entries of payments and refunds they lack (a shop upgraded from before the books)."""
    config = tortoise_config(settings.resolved_database_url)
    try:
        await migrate(config=config)
        if not Tortoise._inited:
            await Tortoise.init(config=config)
        ledger.configure(
            commission_default_bps=settings.commission_default_bps, payment_fee_bps=settings.payment_fee_bps
        )
        return await backfill.post_missing()
    finally:
        await Tortoise.close_connections()
