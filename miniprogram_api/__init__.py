"""The mini-program's JSON API under /api/v1."""

from miniprogram_api.app import create_app

__all__ = ["create_app"]
