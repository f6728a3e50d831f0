"""The official-account bot: the webhook at /wechat/mp and the conversation behind it."""

from bot.app import create_app

__all__ = ["create_app"]
