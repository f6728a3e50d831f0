"""A KOL's ways in: share links for a page of the mini-program (`pages/...?ref=CODE`), their
permanent official-account QR code (scene "kol_CODE", made at WeChat once and kept), and
mini-program codes without a limit on numbers (scene "k=CODE", within WeChat's 32 characters).
Only an approved KOL gets them.

A shared page is checked, not trusted: a known page of the mini-program, and a query of plain
names and values only (no injected `&ref=` of another KOL, no scheme, no quotes)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from tortoise.exceptions import IntegrityError

from commerce import clock
from commerce.referrals.errors import KolError
from commerce.referrals.models import Kol, KolQrCode
from commerce.referrals.states import KolStatus
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import WeChatError, WeChatUnavailable
from commerce.wechat.official_account import create_scene_qrcode

log = logging.getLogger(__name__)

HOME_PAGE = "pages/index/index"
MP_CODE_PAGE = HOME_PAGE  # the mini-program code opens the home page, its scene naming the KOL
QR_SCENE_PREFIX = "kol_"
MP_SCENE_PREFIX = "k="
REF = "ref"
# The mini-program's pages a KOL may share (a page is "pages/<section>/<page>").
KNOWN_PAGE_PREFIXES = (
    "pages/index/",
    "pages/product/",
    "pages/category/",
    "pages/search/",
    "pages/group/",
    "pages/flash/",
    "pages/community/",
)
PATH_MAX = 128  # what a touch keeps of the page
_PAGE = re.compile(r"^pages/[a-z0-9_-]{1,32}/[a-z0-9_-]{1,32}$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_VALUE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class ShareLink:
    code: str
    path: str  # the page to open with the KOL's code: "pages/product/detail?id=12&ref=CODE"


@dataclass(frozen=True)
class QrCode:
    scene: str
    url: str  # what the QR code encodes
    image_url: str  # the QR code picture at WeChat


def share_path(code: str, page: str = HOME_PAGE) -> str:
    """The page with the KOL's code; `page` must be a checked one (see `checked_page`)."""
    base, _, query = page.partition("?")
    params = parse_qsl(query) if query else []
    return f"{base}?{urlencode([*params, (REF, code)])}"


def checked_page(path: str) -> str:
    """The page as it will be shared (no leading slash, its own `ref` dropped), or
    referral_path_invalid."""
    path = (path or HOME_PAGE).strip().lstrip("/")
    page, _, query = path.partition("?")
    if not _PAGE.match(page) or not page.startswith(KNOWN_PAGE_PREFIXES):
        raise KolError.INVALID_PATH.error()
    try:
        params = parse_qsl(query, keep_blank_values=False, strict_parsing=True) if query else []
    except ValueError:
        raise KolError.INVALID_PATH.error() from None
    keys = [key for key, _ in params]
    if len(set(keys)) != len(keys) or not all(_KEY.match(k) and _VALUE.match(v) for k, v in params):
        raise KolError.INVALID_PATH.error()
    kept = [(k, v) for k, v in params if k != REF]
    shown = f"{page}?{urlencode(kept)}" if kept else page
    if len(shown) + len(REF) + 2 + 16 > PATH_MAX:
        raise KolError.INVALID_PATH.error("推广页面路径过长")
    return shown


def qr_scene(code: str) -> str:
    """The official-account QR code's scene of a KOL."""
    return f"{QR_SCENE_PREFIX}{code}"


def mp_code_scene(code: str) -> str:
    """The mini-program code's scene of a KOL (at most 32 visible characters)."""
    return f"{MP_SCENE_PREFIX}{code}"


async def share_link(*, user_id: int, path: str) -> ShareLink:
    """The approved KOL's link to a page (the home page when none is given)."""
    kol = await _approved(user_id)
    return ShareLink(code=kol.code, path=share_path(kol.code, checked_page(path)))


async def official_qrcode(*, user_id: int, mp: WeChatClient) -> QrCode:
    """The approved KOL's permanent official-account QR code, made at WeChat on first use and
    kept (WeChat keeps 100,000 permanent codes per account: never made twice). Two first calls
    at once may both ask WeChat; the unique kol_id keeps one of them."""
    kol = await _approved(user_id)
    row = await KolQrCode.get_or_none(kol_id=kol.id)
    if row is None:
        made = await create_scene_qrcode(mp=mp, scene=qr_scene(kol.code))
        try:
            row = await KolQrCode.create(
                kol_id=kol.id,
                scene=made.scene,
                ticket=made.ticket,
                url=made.url,
                image_url=made.image_url,
                created_at=clock.now(),
            )
        except IntegrityError:
            row = await KolQrCode.get(kol_id=kol.id)
    return QrCode(scene=row.scene, url=row.url, image_url=row.image_url)


async def mini_program_code(*, user_id: int, wechat: WeChatClient) -> bytes:
    """The approved KOL's mini-program code (PNG): it opens the home page with scene k=CODE."""
    kol = await _approved(user_id)
    try:
        return await wechat.get_unlimited_code(
            scene=mp_code_scene(kol.code), page=MP_CODE_PAGE, check_path=True
        )
    except (WeChatError, WeChatUnavailable) as exc:
        log.warning("mini-program code for KOL %s refused: %s", kol.id, exc)
        raise KolError.CODE_UNAVAILABLE.error() from None


async def _approved(user_id: int) -> Kol:
    kol = await Kol.get_or_none(user_id=user_id)
    if kol is None:
        raise KolError.NOT_APPLIED.error()
    if kol.status != KolStatus.APPROVED:
        raise KolError.NOT_APPROVED.error()
    return kol
