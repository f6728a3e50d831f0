"""Links in text replies that open the mini-program's pages (WeChat renders an <a> with
data-miniprogram-appid/-path as a mini-program link; href is the fallback for old clients)."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from commerce.config import Settings

FALLBACK_URL = "https://mp.weixin.qq.com"


def _link(settings: Settings, path: str, label: str) -> str:
    return (
        f'<a href="{FALLBACK_URL}" data-miniprogram-appid="{escape(settings.miniapp_appid)}"'
        f' data-miniprogram-path="{escape(path)}">{escape(label)}</a>'
    )


def product(settings: Settings, product_id: int, title: str) -> str:
    return _link(settings, f"pages/product/detail?id={product_id}", title)


def order(settings: Settings, order_id: int, label: str) -> str:
    return _link(settings, f"pages/order/detail?id={order_id}", label)


def search(settings: Settings, query: str) -> str:
    return _link(settings, f"pages/search/index?q={quote(query[:30])}", "查看全部")


def home(settings: Settings) -> str:
    return _link(settings, "pages/index/index", "打开小程序")


def aftersale(settings: Settings, aftersale_id: int, label: str) -> str:
    return _link(settings, f"pages/aftersale/detail?id={aftersale_id}", label)


def aftersales(settings: Settings, label: str = "售后服务") -> str:
    """The mini-program's after-sales page: the shopper's requests, and where to ask for one."""
    return _link(settings, "pages/aftersale/index", label)


def group(settings: Settings, path: str, label: str) -> str:
    """A 拼团 group's share page (its path as groupbuy's queries make it)."""
    return _link(settings, path, label)
