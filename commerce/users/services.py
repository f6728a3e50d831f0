"""Shopper accounts: WeChat login, sessions, phone binding.

Identity: a shopper is keyed by the mini-program openid (unique). The unionid, when WeChat
sends one, links the shopper to the same person in our other WeChat apps; it stays with the
account that claimed it first. A second openid arriving with a unionid someone already holds
(possible only when the mini-program's appid changes, or after an import) gets an account of
its own without the unionid, and a warning is logged for staff to merge them: merging
accounts automatically on a login would hand one person's orders to another on any mistake.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from commerce import clock
from commerce.config import Settings
from commerce.db import fetch_rows
from commerce.users import tokens
from commerce.users.errors import UserError
from commerce.users.models import User
from commerce.users.sessions import SessionVersions
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import InvalidCode, RateLimited, RiskyUser, WeChatError, WeChatUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shopper:
    """Who is asking, as the edges pass it to services."""

    user_id: int
    openid: str


@dataclass(frozen=True)
class UserView:
    """What a shopper sees of their account: never the raw phone, openid, unionid or session_key."""

    id: int
    nickname: str
    avatar_url: str
    phone_masked: str  # "138****8000", or "" without a phone
    has_phone: bool


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_in: int  # seconds
    user: UserView
    is_new: bool


async def login_with_code(*, code: str, wechat: WeChatClient, settings: Settings) -> LoginResult:
    """Exchange a wx.login() code for our session; the shopper is created on first login.

    A wrong, expired or used code is invalid_login_code; a blocked account login_refused;
    WeChat's rate limit wechat_rate_limited; WeChat down or busy wechat_unavailable.
    """
    try:
        session = await wechat.code_to_session(code)
    except WeChatUnavailable as error:  # before WeChatError: "busy" is both
        log.warning("login: WeChat unavailable: %s", error)
        raise UserError.WECHAT_UNAVAILABLE.error() from error
    except WeChatError as error:
        raise _login_error(error) from error
    user, is_new = await _user_for(session.openid, session.unionid)
    token = tokens.issue(user_id=user.id, session_version=user.session_version, settings=settings)
    return LoginResult(token=token, expires_in=settings.session_ttl_seconds, user=_view(user), is_new=is_new)


async def authenticate_token(
    *, token: str, settings: Settings, sessions: SessionVersions | None = None
) -> Shopper:
    """The shopper behind a session token that is genuine, unexpired and not revoked.

    The signature and expiry cost nothing; revocation is one primary-key lookup, remembered
    for a second in `sessions` when given.
    """
    claims = sessions.decoded(token) if sessions is not None else None
    if claims is None:
        claims = tokens.decode(token, settings=settings)
        if sessions is not None:
            sessions.remember_decoded(token, claims)
    tokens.check_times(claims)
    known = sessions.get(claims.user_id) if sessions is not None else None
    if known is None:
        rows = await User.filter(id=claims.user_id).values_list("openid", "session_version")
        if not rows:
            raise UserError.SESSION_EXPIRED.error()
        known = (rows[0][0], rows[0][1])
        if sessions is not None:
            sessions.put(claims.user_id, *known)
    if known[1] != claims.session_version:
        raise UserError.SESSION_EXPIRED.error()
    return Shopper(user_id=claims.user_id, openid=known[0])


async def bind_phone(*, shopper: Shopper, code: str, wechat: WeChatClient) -> UserView:
    """Store the phone number the shopper allowed through getPhoneNumber.

    The shopper's openid goes along, so WeChat refuses a code issued to someone else.
    """
    try:
        phone = await wechat.get_phone_number(code, openid=shopper.openid)
    except WeChatUnavailable as error:
        log.warning("phone binding: WeChat unavailable: %s", error)
        raise UserError.WECHAT_UNAVAILABLE.error() from error
    except InvalidCode as error:
        raise UserError.INVALID_PHONE_CODE.error() from error
    except RateLimited as error:
        raise UserError.WECHAT_RATE_LIMITED.error() from error
    except WeChatError as error:  # including a token WeChat refused twice
        log.error("phone binding: WeChat refused: %s", error)
        raise UserError.WECHAT_UNAVAILABLE.error() from error
    updated = await User.filter(id=shopper.user_id).update(
        phone=phone.pure_phone_number, phone_country_code=phone.country_code
    )
    if not updated:
        raise UserError.SESSION_EXPIRED.error()
    return await get_profile(shopper=shopper)


async def get_profile(*, shopper: Shopper) -> UserView:
    user = await User.get_or_none(id=shopper.user_id)
    if user is None:  # the account is gone: the session with it
        raise UserError.SESSION_EXPIRED.error()
    return _view(user)


async def end_all_sessions(*, shopper: Shopper, sessions: SessionVersions | None = None) -> None:
    """Revoke every token issued to this shopper so far."""
    await User.filter(id=shopper.user_id).update(session_version=F("session_version") + 1)
    if sessions is not None:
        sessions.forget(shopper.user_id)


async def lock_shopper(conn, *, user_id: int) -> None:
    """Hold this shopper's row until the caller's transaction ends (SELECT … FOR UPDATE).

    Checks over the shopper's own rows and the write that follows then happen as one step for
    this shopper, while other shoppers go on: under READ COMMITTED only this row is locked.
    SQLite has no FOR UPDATE; it runs one write transaction at a time anyway. Hand-written:
    it runs on every order, and the ORM's query building costs more CPU than the query.
    """
    if conn.capabilities.dialect == "mysql":
        await fetch_rows("SELECT `id` FROM `user` WHERE `id` = ? FOR UPDATE", [user_id], connection=conn)


def mask_phone(phone: str) -> str:
    """138****8000: enough for the shopper to recognise their number, no more."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


async def _user_for(openid: str, unionid: str | None) -> tuple[User, bool]:
    """The shopper of this openid, created on first login: (user, is_new).

    Race-safe: concurrent first logins of one person all try to create the row; the unique
    openid lets exactly one succeed, and the others read that row.
    """
    now = clock.now()
    user = await User.get_or_none(openid=openid)
    if user is None:
        user = await _create(openid, unionid, now)
        if user is not None:
            return user, True
        user = await User.get(openid=openid)  # a concurrent first login created it
    changes: dict[str, object] = {"last_login_at": now}
    if unionid and user.unionid is None and not await _unionid_taken(unionid, openid):
        changes["unionid"] = unionid
    try:
        await User.filter(id=user.id).update(**changes)
    except IntegrityError:
        if changes.pop("unionid", None) is None:
            raise
        # another account claimed the unionid in between: it keeps it
        await User.filter(id=user.id).update(**changes)
    user.update_from_dict(changes)
    return user, False


async def _create(openid: str, unionid: str | None, now: datetime) -> User | None:
    """A new user, or None when a concurrent login created this openid's row first."""
    if unionid and await _unionid_taken(unionid, openid):
        unionid = None
    for candidate in [unionid, None] if unionid else [None]:
        try:
            return await User.create(openid=openid, unionid=candidate, last_login_at=now)
        except IntegrityError:
            if await User.exists(openid=openid):
                return None
            if candidate is None:
                raise
            log.warning("unionid claimed by another account meanwhile; this login keeps its own account")
    return None


async def _unionid_taken(unionid: str, openid: str) -> bool:
    holder = await User.filter(unionid=unionid).exclude(openid=openid).values_list("id", flat=True)
    if holder:
        log.warning(
            "unionid already belongs to user %s; this login keeps its own account (merge by hand)",
            holder[0],
        )
    return bool(holder)


def _login_error(error: WeChatError) -> Exception:
    if isinstance(error, InvalidCode):
        return UserError.INVALID_LOGIN_CODE.error()
    if isinstance(error, RateLimited):
        return UserError.WECHAT_RATE_LIMITED.error()
    if isinstance(error, RiskyUser):
        return UserError.LOGIN_REFUSED.error()
    log.error("login: WeChat refused: %s", error)  # 40013/40125: our configuration is wrong
    return UserError.WECHAT_UNAVAILABLE.error()


def _view(user: User) -> UserView:
    return UserView(
        id=user.id,
        nickname=user.nickname,
        avatar_url=user.avatar_url,
        phone_masked=mask_phone(user.phone) if user.phone else "",
        has_phone=bool(user.phone),
    )
