"""Products for staff: list, create and edit (spec axes and the SKU grid), shelf, bulk edits."""

from __future__ import annotations

from aiohttp import web


def add_routes(router: web.UrlDispatcher) -> None:
    """Filled in by the products pages."""
