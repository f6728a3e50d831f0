"""Bring the database schema up to date with the migrations in commerce/migrations."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate

from commerce.config import Settings
from commerce.db import tortoise_config


async def migrate_database(settings: Settings) -> None:
    """Apply every pending migration (idempotent: nothing to do is fine)."""
    try:
        await migrate(config=tortoise_config(settings.resolved_database_url))
    finally:
        await Tortoise.close_connections()
