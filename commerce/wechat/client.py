"""Our async client for the WeChat API: the real one, or the simulator (only the base URL
differs). wechatpy's clients block the event loop and retry token refreshes without bound,
so every outbound call to WeChat goes through here."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import redis.asyncio as redis

from commerce.config import Settings
from commerce.metrics import UNAVAILABLE, WECHAT_CALLS
from commerce.wechat.errors import AccessTokenRefused, WeChatError, WeChatUnavailable, error_for
from commerce.wechat.tokens import AccessTokenCache

log = logging.getLogger(__name__)

# WeChat answers in well under a second; a caller (a shopper's request) must not hang on it.
TIMEOUT = aiohttp.ClientTimeout(total=5, connect=2, sock_read=5)
UNLIMITED_CODE_TTL_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class SessionInfo:
    openid: str
    unionid: str | None  # only when the mini-program is bound to an open-platform account
    session_key: str  # decrypts wx.getUserInfo data; never leaves the server, never logged


@dataclass(frozen=True)
class PhoneInfo:
    phone_number: str  # with the country code for numbers outside mainland China
    pure_phone_number: str
    country_code: str


class WeChatClient:
    """Server-side calls of one WeChat app: the mini-program's (the default) or the official
    account's. One per app and process; the access token is one per appid, shared by every
    process through Redis."""

    def __init__(
        self, *, settings: Settings, redis: redis.Redis, appid: str | None = None, secret: str | None = None
    ) -> None:
        self._base = settings.resolved_api_base
        self._appid = appid or settings.miniapp_appid
        self._secret = secret or settings.miniapp_secret
        self._http: aiohttp.ClientSession | None = None
        self._redis = redis
        self.tokens = AccessTokenCache(redis_client=redis, appid=self._appid, fetch=self._fetch_token)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def code_to_session(self, code: str) -> SessionInfo:
        """Exchange a wx.login() code (single use, five minutes) for the user's identity."""
        body = await self._call(
            "GET",
            "/sns/jscode2session",
            params={
                "appid": self._appid,
                "secret": self._secret,
                "js_code": code,
                "grant_type": "authorization_code",
            },
        )
        openid, session_key = body.get("openid"), body.get("session_key")
        if not isinstance(openid, str) or not openid or not isinstance(session_key, str):
            raise WeChatUnavailable("jscode2session: no openid in the answer")
        unionid = body.get("unionid")
        return SessionInfo(
            openid=openid,
            unionid=unionid if isinstance(unionid, str) and unionid else None,
            session_key=session_key,
        )

    async def get_phone_number(self, code: str, *, openid: str | None = None) -> PhoneInfo:
        """The phone number a user allowed with getPhoneNumber. With `openid`, WeChat also
        checks that the code was issued to that user."""
        payload: dict[str, Any] = {"code": code}
        if openid:
            payload["openid"] = openid
        body = await self._call_with_token("POST", "/wxa/business/getuserphonenumber", json_body=payload)
        info = body.get("phone_info")
        try:
            return PhoneInfo(
                phone_number=str(info["phoneNumber"]),
                pure_phone_number=str(info["purePhoneNumber"]),
                country_code=str(info["countryCode"]),  # documented as a string, sent as a number
            )
        except (KeyError, TypeError) as exc:
            raise WeChatUnavailable("getuserphonenumber: no phone_info in the answer") from exc

    async def upload_shipping_info(self, payload: dict[str, Any]) -> None:
        """Tell WeChat how a mini-program payment's goods were shipped (发货信息录入)."""
        await self._call_with_token("POST", "/wxa/sec/order/upload_shipping_info", json_body=payload)

    async def get_unlimited_code(
        self, *, scene: str, page: str, check_path: bool = True, width: int = 430
    ) -> bytes:
        """A mini-program code (wxacode.getUnlimited) opening `page` with `scene` (at most 32
        visible characters): the image's bytes. WeChat answers an image, or an errcode JSON."""
        body = {"scene": scene, "page": page, "check_path": check_path, "width": width}
        # The same scene and page always make the same code: kept in Redis, so a shared group
        # or a KOL's code shown a thousand times asks WeChat once (getUnlimited is rate-limited).
        key = (
            f"wx:{self._appid}:wxacode:"
            + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        )
        if (kept := await self._redis.get(key)) is not None:
            return kept
        token = await self.tokens.get()
        try:
            image = await self._image(token, body)
        except AccessTokenRefused as error:
            log.info(
                "access token refused on getwxacodeunlimit (errcode %s); replacing it once", error.errcode
            )
            image = await self._image(await self.tokens.replace(token), body)
        await self._redis.set(key, image, ex=UNLIMITED_CODE_TTL_SECONDS)
        return image

    async def _image(self, token: str, body: dict[str, Any]) -> bytes:
        with counted("/wxa/getwxacodeunlimit"):
            return await self._send_for_image(token, body)

    async def _send_for_image(self, token: str, body: dict[str, Any]) -> bytes:
        path = "/wxa/getwxacodeunlimit"
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        try:
            async with self._http.post(
                self._base + path, params={"access_token": token}, json=body
            ) as response:
                raw, status, kind = await response.read(), response.status, response.content_type
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WeChatUnavailable(f"{path}: {type(exc).__name__}") from None
        if status != 200:
            raise WeChatUnavailable(f"{path}: HTTP {status}")
        if kind.startswith("image/"):
            return raw
        try:
            answer = json.loads(raw)
            errcode = int(answer.get("errcode", -1))
        except (ValueError, TypeError, AttributeError):
            raise WeChatUnavailable(f"{path}: neither an image nor JSON") from None
        raise error_for(errcode or -1, str(answer.get("errmsg", "")))

    async def send_subscribe_message(
        self, openid: str, template_id: str, data: dict[str, str], *, page: str, state: str = "formal"
    ) -> None:
        """A subscribe message (订阅消息) to a mini-program user: data maps the template's keyword
        keys to their values (thing1 at most 20 characters, phrase2 5 Chinese characters, ...);
        page opens on tap ("pages/order/index?id=1"); state is the mini-program version it opens
        ("formal", "trial" or "developer").

        Raises NotSubscribed (43101) when the shopper has no acceptance of the template left;
        WeChatError for an openid not of this mini-program (40003), a template it did not add
        (40037) or data breaking the template's rules (47003); WeChatUnavailable when WeChat
        cannot be reached or is busy."""
        await self._call_with_token(
            "POST",
            "/cgi-bin/message/subscribe/send",
            json_body={
                "touser": openid,
                "template_id": template_id,
                "page": page,
                "data": {key: {"value": value} for key, value in data.items()},
                "miniprogram_state": state,
                "lang": "zh_CN",
            },
        )

    # -- official account --------------------------------------------------------------

    async def send_custom_message(self, openid: str, message: dict[str, Any]) -> None:
        """A customer-service message to a follower, e.g. {"msgtype": "text", "text":
        {"content": "..."}}. WeChat allows them only within its windows after the follower's
        own action: OutOfWindow (45015, 45047) when one has closed or is used up."""
        await self._call_with_token(
            "POST", "/cgi-bin/message/custom/send", json_body={"touser": openid, **message}
        )

    async def get_user_info(self, openid: str) -> dict[str, Any]:
        """A follower's profile: subscribe, openid, unionid (when the account is bound to an
        open-platform account), subscribe_scene, qr_scene_str, ..."""
        return await self._call_with_token(
            "GET", "/cgi-bin/user/info", params={"openid": openid, "lang": "zh_CN"}
        )

    async def create_menu(self, menu: dict[str, Any]) -> None:
        """Replace the official account's custom menu ({"button": [...]})."""
        await self._call_with_token("POST", "/cgi-bin/menu/create", json_body=menu)

    async def create_qrcode(self, scene: str, *, expire_seconds: int | None = None) -> dict[str, Any]:
        """A parametric QR code for a scene string (1-64 characters): temporary
        (QR_STR_SCENE, up to 30 days) with expire_seconds, permanent (QR_LIMIT_STR_SCENE)
        without. Returns {"ticket", "url", "expire_seconds"?}."""
        body: dict[str, Any] = {
            "action_name": "QR_STR_SCENE" if expire_seconds else "QR_LIMIT_STR_SCENE",
            "action_info": {"scene": {"scene_str": scene}},
        }
        if expire_seconds:
            body["expire_seconds"] = expire_seconds
        return await self._call_with_token("POST", "/cgi-bin/qrcode/create", json_body=body)

    async def access_token(self) -> str:
        """The app's current access token (shared through Redis)."""
        return await self.tokens.get()

    async def _call_with_token(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
    ) -> dict[str, Any]:
        """Call with the shared access token; if WeChat refuses the token, replace it and
        retry once (a second refusal is raised)."""
        token = await self.tokens.get()
        try:
            return await self._call(method, path, params=_with_token(params, token), json_body=json_body)
        except AccessTokenRefused as error:
            log.info("access token refused on %s (errcode %s); replacing it once", path, error.errcode)
        token = await self.tokens.replace(token)
        return await self._call(method, path, params=_with_token(params, token), json_body=json_body)

    async def _fetch_token(self, force_refresh: bool) -> tuple[str, int]:
        body = await self._call(
            "POST",
            "/cgi-bin/stable_token",
            json_body={
                "grant_type": "client_credential",
                "appid": self._appid,
                "secret": self._secret,
                "force_refresh": force_refresh,
            },
        )
        token, expires_in = body.get("access_token"), body.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise WeChatUnavailable("stable_token: no access_token in the answer")
        return token, expires_in

    async def _call(
        self, method: str, path: str, *, params: dict[str, str] | None = None, json_body: Any = None
    ) -> dict[str, Any]:
        """One HTTP call, counted by path and outcome (shop_wechat_calls)."""
        with counted(path):
            return await self._send(method, path, params=params, json_body=json_body)

    async def _send(
        self, method: str, path: str, *, params: dict[str, str] | None = None, json_body: Any = None
    ) -> dict[str, Any]:
        """One HTTP call; WeChat's errcode raised as its typed exception.

        Messages name the path only: the query holds the secret, codes and the access token.
        """
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        payload = None if json_body is None else json.dumps(json_body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else None
        try:
            async with self._http.request(
                method, self._base + path, params=params, data=payload, headers=headers
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WeChatUnavailable(f"{path}: {type(exc).__name__}") from None
        if status != 200:
            raise WeChatUnavailable(f"{path}: HTTP {status}")
        try:
            body = json.loads(raw)  # WeChat often says text/plain; the body is JSON all the same
        except ValueError:
            raise WeChatUnavailable(f"{path}: the answer is not JSON") from None
        if not isinstance(body, dict):
            raise WeChatUnavailable(f"{path}: the answer is not a JSON object")
        errcode = body.get("errcode", 0)
        if errcode:
            try:
                errcode = int(errcode)
            except (TypeError, ValueError):
                errcode = -1
            error = error_for(errcode, str(body.get("errmsg", "")))
            log.info("WeChat refused %s: errcode %s, %s", path, error.errcode, error.errmsg)
            raise error
        return body


def _with_token(params: dict[str, str] | None, token: str) -> dict[str, str]:
    return {**(params or {}), "access_token": token}


@contextmanager
def counted(path: str) -> Iterator[None]:
    """Count one call to WeChat by its outcome: errcode 0, WeChat's errcode, or unavailable."""
    try:
        yield
    except WeChatError as error:  # WeChatBusy too: it carries WeChat's -1
        WECHAT_CALLS.labels(path, str(error.errcode)).inc()
        raise
    except WeChatUnavailable:
        WECHAT_CALLS.labels(path, UNAVAILABLE).inc()
        raise
    WECHAT_CALLS.labels(path, "0").inc()
