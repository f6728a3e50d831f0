"""Our async client for the WeChat API (the real one, or the simulator: only the base URL
differs). wechatpy's clients block the event loop and retry token refreshes without bound,
so outbound calls go through here."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import redis.asyncio as redis

from commerce.config import Settings
from commerce.wechat.errors import TOKEN_ERRORS, WeChatError, WeChatUnavailable
from commerce.wechat.tokens import AccessTokenCache

log = logging.getLogger(__name__)
TIMEOUT = aiohttp.ClientTimeout(total=5, connect=2)


@dataclass(frozen=True)
class SessionInfo:
    openid: str
    unionid: str | None
    session_key: str  # never leaves the server


@dataclass(frozen=True)
class PhoneInfo:
    phone_number: str
    pure_phone_number: str
    country_code: str


class WeChatClient:
    """The mini-program's calls. One per process; the access token is shared through Redis."""

    def __init__(self, *, settings: Settings, redis: redis.Redis) -> None:
        self._base = settings.resolved_api_base
        self._appid = settings.miniapp_appid
        self._secret = settings.miniapp_secret
        self._http: aiohttp.ClientSession | None = None
        self.tokens = AccessTokenCache(redis_client=redis, appid=self._appid, fetch=self._fetch_token)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def code_to_session(self, code: str) -> SessionInfo:
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
        return SessionInfo(
            openid=body["openid"], unionid=body.get("unionid"), session_key=body["session_key"]
        )

    async def get_phone_number(self, code: str) -> PhoneInfo:
        body = await self._call_with_token(
            "POST", "/wxa/business/getuserphonenumber", json_body={"code": code}
        )
        info = body["phone_info"]
        return PhoneInfo(info["phoneNumber"], info["purePhoneNumber"], str(info["countryCode"]))

    async def access_token(self) -> str:
        return await self.tokens.get()

    async def _call_with_token(self, method: str, path: str, *, json_body: dict[str, Any]) -> dict[str, Any]:
        """Call with the shared access token; if WeChat refuses the token, refresh once and retry."""
        token = await self.tokens.get()
        try:
            return await self._call(method, path, params={"access_token": token}, json_body=json_body)
        except WeChatError as error:
            if error.errcode not in TOKEN_ERRORS:
                raise
            log.info("access token refused (%s); refreshing once", error.errcode)
            await self.tokens.invalidate(token)
            token = await self.tokens.get()
            return await self._call(method, path, params={"access_token": token}, json_body=json_body)

    async def _fetch_token(self) -> tuple[str, int]:
        body = await self._call(
            "POST",
            "/cgi-bin/stable_token",
            json_body={
                "grant_type": "client_credential",
                "appid": self._appid,
                "secret": self._secret,
                "force_refresh": False,
            },
        )
        return body["access_token"], int(body["expires_in"])

    async def _call(
        self, method: str, path: str, *, params: dict[str, str] | None = None, json_body: Any = None
    ) -> dict[str, Any]:
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
            raise WeChatUnavailable(f"{path}: {exc!r}") from exc
        if status != 200:
            raise WeChatUnavailable(f"{path}: HTTP {status}")
        try:
            body = json.loads(raw)  # WeChat often says text/plain; the body is JSON all the same
        except ValueError as exc:
            raise WeChatUnavailable(f"{path}: not JSON") from exc
        errcode = body.get("errcode", 0) if isinstance(body, dict) else -1
        if errcode == -1:
            raise WeChatUnavailable(f"{path}: WeChat busy")
        if errcode:
            raise WeChatError(errcode, body.get("errmsg", ""))
        return body
