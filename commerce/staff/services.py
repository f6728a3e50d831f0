"""Staff accounts: the first ones of a new install (`shop create-admin`), those an admin makes,
and their lifecycle (deactivate, reactivate, reset the password), each change audited and
ending the account's sessions where it must."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from commerce.audit import services as audit
from commerce.config import Settings
from commerce.staff.errors import StaffError
from commerce.staff.models import StaffAccount
from commerce.staff.states import StaffRole
from commerce.transactions import unit_of_work, write_transaction

if TYPE_CHECKING:
    from commerce.staff.auth import Staff

_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


PLATFORM_ROLES = frozenset({StaffRole.PLATFORM_ADMIN, StaffRole.AGENT, StaffRole.FINANCE})


async def create_platform_admin(*, username: str, password: str) -> int:
    """Create a platform admin; the id of the new account."""
    return (await create_first_account(username=username, password=password)).id


async def create_first_account(
    *, username: str, password: str, role: StaffRole = StaffRole.PLATFORM_ADMIN, display_name: str = ""
) -> StaffView:
    """An account of a platform role made from the command line (a new install's first people),
    audited as made by the command line."""
    if role not in PLATFORM_ROLES:
        raise StaffError.ROLE_MISMATCH.error()
    return await create_staff(
        username=username,
        password=password,
        role=role,
        merchant_id=None,
        display_name=display_name,
        actor="cli",
    )


async def create_first_account_cli(settings: Settings, **kwargs) -> StaffView:
    from commerce.db import close_db, init_db

    await init_db(settings)
    try:
        return await create_first_account(**kwargs)
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
    display_name: str = ""


def _view(a: StaffAccount) -> StaffView:
    return StaffView(a.id, a.username, StaffRole(a.role), a.merchant_id, a.is_active, a.display_name)


@unit_of_work
async def create_staff(
    *,
    username: str,
    password: str,
    role: StaffRole,
    merchant_id: int | None,
    actor: str,
    display_name: str = "",
) -> StaffView:
    """A staff account made by an admin: merchant roles belong to one merchant, platform roles
    to none. Recorded in the audit log (never the password)."""
    display_name = (display_name or "").strip()
    if not _USERNAME.match(username or ""):
        raise StaffError.INVALID_USERNAME.error()
    if len(display_name) > 64:
        raise StaffError.INVALID_DISPLAY_NAME.error()
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise StaffError.WEAK_PASSWORD.error()
    if (role in MERCHANT_ROLES) != (merchant_id is not None):
        raise StaffError.ROLE_MISMATCH.error()
    try:
        async with write_transaction() as conn:
            account = await StaffAccount.create(
                username=username,
                display_name=display_name,
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
                after={
                    "username": username,
                    "display_name": display_name,
                    "role": role.value,
                    "merchant_id": merchant_id,
                },
                connection=conn,
            )
    except IntegrityError as exc:
        raise StaffError.USERNAME_TAKEN.error() from exc
    return _view(account)


async def list_staff(*, merchant_id: int | None = None, ids: set[int] | None = None) -> list[StaffView]:
    """Staff accounts: a merchant's, or these ids', or everyone's."""
    query = StaffAccount.filter(merchant_id=merchant_id) if merchant_id else StaffAccount.all()
    if ids is not None:
        query = query.filter(id__in=list(ids) or [0])
    return [_view(a) for a in await query.order_by("id")]


async def staff_ids_named_like(text: str, *, limit: int = 200) -> list[int]:
    """Ids of the accounts whose username or display name contains the text (the audit log
    searches by them)."""
    query = StaffAccount.filter(Q(username__icontains=text) | Q(display_name__icontains=text))
    return list(await query.limit(limit).values_list("id", flat=True))


# --- lifecycle: who may change whom, and what each change does --------------------------------


async def deactivate_staff(*, staff_id: int, by: Staff) -> StaffView:
    """Stop an account: it cannot sign in, and every session of it ends at once."""
    if staff_id == by.id:
        raise StaffError.NOT_YOURSELF.error()
    return await _change(staff_id, by, "staff.deactivate", {"is_active": False}, end_sessions=True)


async def reactivate_staff(*, staff_id: int, by: Staff) -> StaffView:
    """Let a stopped account sign in again (its old sessions stay ended)."""
    return await _change(staff_id, by, "staff.reactivate", {"is_active": True}, end_sessions=False)


async def reset_password(*, staff_id: int, password: str, by: Staff) -> StaffView:
    """Give the account a new password (the manager tells its owner); its sessions end."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise StaffError.WEAK_PASSWORD.error()
    new_hash = _hasher.hash(password)
    return await _change(staff_id, by, "staff.password", {"password_hash": new_hash}, end_sessions=True)


async def end_sessions_of_merchant(*, merchant_id: int, connection) -> int:
    """End every session of a merchant's people (it was suspended); how many accounts."""
    return await (
        StaffAccount.filter(merchant_id=merchant_id)
        .using_db(connection)
        .update(session_epoch=F("session_epoch") + 1)
    )


def may_manage(by: Staff, target: StaffView) -> bool:
    """The platform admin manages everyone; a merchant owner its own merchant's staff."""
    if by.role is StaffRole.PLATFORM_ADMIN:
        return True
    return (
        by.role is StaffRole.MERCHANT_OWNER
        and target.merchant_id == by.merchant_id
        and target.role is StaffRole.MERCHANT_STAFF
    )


@unit_of_work
async def _change(staff_id: int, by: Staff, action: str, changes: dict, *, end_sessions: bool) -> StaffView:
    async with write_transaction() as conn:
        account = await StaffAccount.get_or_none(id=staff_id).using_db(conn)
        # Another merchant's people and the platform's are not a merchant owner's to see.
        platform = by.role is StaffRole.PLATFORM_ADMIN
        if account is None or (not platform and account.merchant_id != by.merchant_id):
            raise StaffError.NOT_FOUND.error()
        if not may_manage(by, _view(account)):
            raise StaffError.NOT_YOURS.error()
        shown = {key: value for key, value in changes.items() if key != "password_hash"}
        before = {key: getattr(account, key) for key in shown}
        update = dict(changes)
        if end_sessions:
            update["session_epoch"] = F("session_epoch") + 1
        await StaffAccount.filter(id=staff_id).using_db(conn).update(**update)
        await audit.record(
            actor=by.actor,
            action=action,
            object_type="staff",
            object_id=staff_id,
            summary=f"{account.username}（{StaffRole(account.role).value}）",
            before=before or None,
            after={**shown, **({"password": "已重置"} if "password_hash" in changes else {})}
            | ({"sessions": "已全部结束"} if end_sessions else {}),
            connection=conn,
        )
        for key, value in changes.items():
            setattr(account, key, value)
    return _view(account)


def is_valid_username(username: str) -> bool:
    return bool(_USERNAME.match(username))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except Exception:  # argon2 raises several types for a mismatch or a bad hash
        return False
