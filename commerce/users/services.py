"""Shopper accounts: WeChat login, sessions, phone binding."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from commerce import clock
from commerce.config import Settings
from commerce.users import tokens
from commerce.users.errors import UserError
from commerce.users.models import User
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import CODE_ERRORS, WeChatError, WeChatUnavailable


@dataclass(frozen=True)
class Shopper:
    """Who is asking, as the edges pass it to services."""

    user_id: int
    openid: str


@dataclass(frozen=True)
class UserView:
    id: int
    nickname: str
    avatar_url: str
    phone_masked: str  # "138****8000", or "" without a phone
    has_phone: bool


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_in: int
    user: UserView
    is_new: bool


async def login_with_code(*, code: str, wechat: WeChatClient, settings: Settings) -> LoginResult:
    """Exchange a wx.login() code for our session: the user is created on first login."""
    try:
        session = await wechat.code_to_session(code)
    except WeChatError as error:
        raise _login_error(error) from error
    except WeChatUnavailable as error:
        raise UserError.WECHAT_UNAVAILABLE.error() from error
    user, is_new = await _user_for(session.openid, session.unionid)
    token = tokens.issue(user_id=user.id, session_version=user.session_version, settings=settings)
    return LoginResult(token=token, expires_in=settings.session_ttl_seconds, user=_view(user), is_new=is_new)


async def _user_for(openid: str, unionid: str | None) -> tuple[User, bool]:
    now = clock.now()
    user = await User.get_or_none(openid=openid)
    if user is None:
        try:
            user = await User.create(openid=openid, unionid=unionid, last_login_at=now)
            return user, True
        except IntegrityError:
            # A concurrent first login of the same person won the unique openid: use its row.
            user = await User.get_or_none(openid=openid)
            if user is None:  # the unionid is held by another row: log in without linking
                return await User.create(openid=openid, unionid=None, last_login_at=now), True
    changes = {"last_login_at": now}
    if unionid and not user.unionid and not await User.exists(unionid=unionid):
        changes["unionid"] = unionid
    await User.filter(id=user.id).update(**changes)
    await user.refresh_from_db()
    return user, False


def _login_error(error: WeChatError):
    if error.errcode in CODE_ERRORS:
        return UserError.INVALID_LOGIN_CODE.error()
    if error.errcode == 45011:
        return UserError.WECHAT_RATE_LIMITED.error()
    if error.errcode == 40226:
        return UserError.LOGIN_REFUSED.error()
    return UserError.WECHAT_UNAVAILABLE.error()


async def authenticate_token(*, token: str, settings: Settings) -> Shopper:
    """The shopper behind a session token that is genuine, unexpired and not revoked."""
    claims = tokens.verify(token, settings=settings)
    row = await User.filter(id=claims.user_id).values_list("openid", "session_version")
    if not row or row[0][1] != claims.session_version:
        raise UserError.SESSION_EXPIRED.error()
    return Shopper(user_id=claims.user_id, openid=row[0][0])


async def bind_phone(*, shopper: Shopper, code: str, wechat: WeChatClient) -> UserView:
    """Store the phone number the shopper allowed through getPhoneNumber."""
    try:
        phone = await wechat.get_phone_number(code)
    except WeChatError as error:
        if error.errcode in CODE_ERRORS:
            raise UserError.INVALID_PHONE_CODE.error() from error
        raise UserError.WECHAT_UNAVAILABLE.error() from error
    except WeChatUnavailable as error:
        raise UserError.WECHAT_UNAVAILABLE.error() from error
    await User.filter(id=shopper.user_id).update(
        phone=phone.pure_phone_number, phone_country_code=phone.country_code
    )
    return await get_profile(shopper=shopper)


async def get_profile(*, shopper: Shopper) -> UserView:
    return _view(await User.get(id=shopper.user_id))


async def end_all_sessions(*, shopper: Shopper) -> None:
    """Revoke every token issued to this shopper so far."""
    await User.filter(id=shopper.user_id).update(session_version=F("session_version") + 1)


def mask_phone(phone: str) -> str:
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def _view(user: User) -> UserView:
    return UserView(
        id=user.id,
        nickname=user.nickname,
        avatar_url=user.avatar_url,
        phone_masked=mask_phone(user.phone) if user.phone else "",
        has_phone=bool(user.phone),
    )
