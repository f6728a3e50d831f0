"""Staff accounts. For now: the first platform admin (`shop create-admin`)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from tortoise.exceptions import IntegrityError

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


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except Exception:  # argon2 raises several types for a mismatch or a bad hash
        return False
