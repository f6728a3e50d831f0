"""The admin web under /admin: staff sign-in, roles, and the pages merchants, agents and the
platform work in (server-rendered, zh-CN)."""

from admin_web.app import create_app

__all__ = ["create_app"]
