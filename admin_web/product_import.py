"""Importing products from CSV/Excel with progress and a per-row report; exporting them."""

from __future__ import annotations

from aiohttp import web


def add_routes(router: web.UrlDispatcher) -> None:
    """Filled in by the import and export pages."""
