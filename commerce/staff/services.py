"""Staff accounts. For now: the first platform admin (`shop create-admin`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from commerce.audit import services as audit
from commerce.config import Settings
from commerce.staff.errors import StaffError
from commerce.staff.models import StaffAccount
from commerce.staff.states import StaffRole

_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


async def create_platform_admin(*, username: str, password: str) -> int:
    """Create a platform admin; the id of the new account."""
    if not _USERNAME.match(username):
        raise StaffError.INVALID_USERNAME.error()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError.WEAK_PASSWORD.error()
    try:
        account = await StaffAccount.create(
            username=username, password_hash=_hasher.hash(password), role=StaffRole.PLATFORM_ADMIN
        )
    except IntegrityError as exc:  # the unique username decides, also under a race
        raise StaffError.USERNAME_TAKEN.error() from exc
    return account.id


async def create_platform_admin_cli(settings: Settings, *, username: str, password: str) -> int:
    from commerce.db import close_db, init_db

    await init_db(settings)
    try:
        return await create_platform_admin(username=username, password=password)
    finally:
        await close_db()


MERCHANT_ROLES = frozenset({StaffRole.MERCHANT_OWNER, StaffRole.MERCHANT_STAFF})


@dataclass(frozen=True)
class StaffView:
    id: int
    username: str
    role: StaffRole
    merchant_id: int | None
    is_active: bool


async def create_staff(
    *, username: str, password: str, role: StaffRole, merchant_id: int | None, actor: str
) -> StaffView:
    """A staff account made by an admin: merchant roles belong to one merchant, platform roles
    to none. Recorded in the audit log (never the password)."""
    if not _USERNAME.match(username or ""):
        raise StaffError.INVALID_USERNAME.error()
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise StaffError.WEAK_PASSWORD.error()
    if (role in MERCHANT_ROLES) != (merchant_id is not None):
        raise StaffError.ROLE_MISMATCH.error()
    try:
        async with in_transaction() as conn:
            account = await StaffAccount.create(
                username=username,
                password_hash=_hasher.hash(password),
                role=role,
                merchant_id=merchant_id,
                using_db=conn,
            )
            await audit.record(
                actor=actor,
                action="staff.create",
                object_type="staff",
                object_id=account.id,
                summary=f"{username}（{role.value}）",
                after={"username": username, "role": role.value, "merchant_id": merchant_id},
                connection=conn,
            )
    except IntegrityError as exc:
        raise StaffError.USERNAME_TAKEN.error() from exc
    return StaffView(account.id, username, role, merchant_id, True)


async def list_staff(*, merchant_id: int | None = None, ids: set[int] | None = None) -> list[StaffView]:
    """Staff accounts: a merchant's, or these ids', or everyone's."""
    query = StaffAccount.filter(merchant_id=merchant_id) if merchant_id else StaffAccount.all()
    if ids is not None:
        query = query.filter(id__in=list(ids) or [0])
    return [
        StaffView(a.id, a.username, StaffRole(a.role), a.merchant_id, a.is_active)
        for a in await query.order_by("id")
    ]


def is_valid_username(username: str) -> bool:
    return bool(_USERNAME.match(username))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except Exception:  # argon2 raises several types for a mismatch or a bad hash
        return False
