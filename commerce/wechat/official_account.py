"""Managing the official account: its custom menu, and parametric QR codes for scenes
(referral and group-leader links, campaigns) that come back to us in follow and scan events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from commerce import clock
from commerce.config import Settings
from commerce.errors import ErrorCode, ErrorKind
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import WeChatError, WeChatUnavailable

MAX_SCENE = 64
MAX_TEMPORARY_DAYS = 30
SHOW_QRCODE = "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket="


class MpError(ErrorCode):
    INVALID_MENU = ("invalid_menu", ErrorKind.INVALID, "菜单配置有误")
    INVALID_SCENE = ("invalid_scene", ErrorKind.INVALID, "场景值须为 1-64 个字符，临时二维码有效期 1-30 天")
    WECHAT_REFUSED = ("wechat_refused", ErrorKind.UNAVAILABLE, "微信拒绝了请求")


@dataclass(frozen=True)
class SceneQrCode:
    scene: str
    ticket: str
    url: str  # what the QR code encodes
    image_url: str  # the QR code picture
    expires_at: datetime | None  # None: permanent


def load_menu(path: Path, *, settings: Settings) -> dict[str, Any]:
    """The menu in a JSON file ({"button": [...]}); {miniapp_appid} is replaced by ours."""
    try:
        text = path.read_text(encoding="utf-8").replace("{miniapp_appid}", settings.miniapp_appid)
        menu = json.loads(text)
    except (OSError, ValueError) as exc:
        raise MpError.INVALID_MENU.error(f"菜单文件无法读取：{exc}") from None
    buttons = menu.get("button") if isinstance(menu, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise MpError.INVALID_MENU.error("菜单须有 1-3 个一级菜单（button）")
    return menu


async def push_menu(menu: dict[str, Any], *, mp: WeChatClient) -> None:
    try:
        await mp.create_menu(menu)
    except WeChatError as error:
        raise MpError.WECHAT_REFUSED.error(f"微信拒绝了菜单（{error.errcode}：{error.errmsg}）") from None
    except WeChatUnavailable as exc:
        raise MpError.WECHAT_REFUSED.error(f"微信暂时不可用：{exc}") from None


async def create_scene_qrcode(*, mp: WeChatClient, scene: str, days: int | None = None) -> SceneQrCode:
    """A QR code that follows (or scans) bring back as `scene`: temporary for `days` (1-30),
    permanent without (WeChat limits permanent codes to 100,000 per account)."""
    if not 1 <= len(scene) <= MAX_SCENE or (days is not None and not 1 <= days <= MAX_TEMPORARY_DAYS):
        raise MpError.INVALID_SCENE.error()
    seconds = days * 86400 if days else None
    try:
        answer = await mp.create_qrcode(scene, expire_seconds=seconds)
    except WeChatError as error:
        raise MpError.WECHAT_REFUSED.error(f"微信拒绝了二维码（{error.errcode}：{error.errmsg}）") from None
    except WeChatUnavailable as exc:
        raise MpError.WECHAT_REFUSED.error(f"微信暂时不可用：{exc}") from None
    ticket = str(answer.get("ticket", ""))
    expires = answer.get("expire_seconds")
    return SceneQrCode(
        scene=scene,
        ticket=ticket,
        url=str(answer.get("url", "")),
        image_url=SHOW_QRCODE + quote(ticket),
        expires_at=clock.now() + timedelta(seconds=int(expires)) if expires else None,
    )
