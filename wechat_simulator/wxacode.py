"""The mini-program code without a limit on numbers (wxacode.getUnlimited,
POST /wxa/getwxacodeunlimit?access_token=): the image itself on success, an errcode JSON on
refusal.

WeChat's rules: `scene` is required, 1-32 visible characters of digits, letters and
!#$&'()*+,/:;=?@-._~ (40169 otherwise); `page` has no leading slash and no query, and with
check_path (true by default) must be a page of the published mini-program (41030); width is
280-1280 px (40097 otherwise). The image here is a small PNG whose pattern depends on the
scene, so two codes of different scenes differ."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib

from aiohttp import web

from wechat_simulator.api import wechat_api
from wechat_simulator.keys import STATE
from wechat_simulator.replies import error, json_body
from wechat_simulator.tokens import check_access_token

_SCENE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$")
_PAGE = re.compile(r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$")


@wechat_api("getwxacodeunlimit")
async def get_unlimited(request: web.Request) -> web.Response:
    state = request.app[STATE]
    token, errcode = check_access_token(state, request.query.get("access_token"))
    if token is None:
        return error(errcode)
    body = await json_body(request)
    if body is None:
        return error(47001)
    scene, page = body.get("scene"), body.get("page", "")
    if not isinstance(scene, str) or not _SCENE.match(scene):
        return error(40169)
    if not isinstance(page, str) or (page and not _PAGE.match(page)):
        return error(41030)
    if body.get("check_path", True) is not False and page and page not in state.config.miniapp_pages:
        return error(41030)
    width = body.get("width", 430)
    if type(width) is not int or not 280 <= width <= 1280:
        return error(40097)
    state.wxacodes.append({"appid": token.appid, "scene": scene, "page": page, "width": width})
    return web.Response(body=_png(scene), content_type="image/png")


def _png(scene: str, cells: int = 21, scale: int = 4) -> bytes:
    """A black-and-white square drawn from the scene's hash (not a real code: a stand-in
    whose bytes say which scene it carries)."""
    bits = int.from_bytes(hashlib.sha256(scene.encode()).digest() * 2, "big")
    size = cells * scale
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            on = (bits >> ((y // scale) * cells + x // scale)) & 1
            row.append(0 if on else 255)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"tEXt", b"scene\x00" + scene.encode())
        + chunk(b"IEND", b"")
    )
