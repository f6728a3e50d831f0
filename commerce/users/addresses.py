"""A shopper's delivery addresses; exactly one is the default while any exist."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from commerce.db import fetch_rows
from commerce.transactions import unit_of_work, write_transaction
from commerce.users.errors import AddressError
from commerce.users.models import Address
from commerce.users.services import Shopper, lock_shopper

MAX_ADDRESSES = 20
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


@dataclass(frozen=True)
class AddressInput:
    receiver_name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    is_default: bool = False


@dataclass(frozen=True)
class AddressView:
    id: int
    receiver_name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    is_default: bool


async def list_addresses(*, shopper: Shopper) -> list[AddressView]:
    rows = await Address.filter(user_id=shopper.user_id).order_by("-is_default", "-updated_at", "-id")
    return [_view(row) for row in rows]


async def get_address(*, shopper: Shopper, address_id: int) -> AddressView:
    """The shopper's own address; anyone else's is not found.

    Hand-written SQL: checkout and ordering read the address on every request.
    """
    rows = await fetch_rows(
        "SELECT `id`, `receiver_name`, `phone`, `province`, `city`, `district`, `detail`, `is_default`"
        " FROM `address` WHERE `id` = ? AND `user_id` = ?",
        [address_id, shopper.user_id],
    )
    if not rows:
        raise AddressError.NOT_FOUND.error()
    return AddressView(**{**rows[0], "is_default": bool(rows[0]["is_default"])})


@unit_of_work
async def create_address(*, shopper: Shopper, address: AddressInput) -> AddressView:
    _check(address)
    async with write_transaction() as conn:
        await lock_shopper(conn, user_id=shopper.user_id)  # one shopper's address book at a time
        count = await Address.filter(user_id=shopper.user_id).using_db(conn).count()
        if count >= MAX_ADDRESSES:
            raise AddressError.TOO_MANY.error()
        make_default = address.is_default or count == 0  # the first address is the default
        if make_default:
            await Address.filter(user_id=shopper.user_id).using_db(conn).update(is_default=False)
        row = await Address.create(
            user_id=shopper.user_id, **_fields(address), is_default=make_default, using_db=conn
        )
    return _view(row)


@unit_of_work
async def update_address(*, shopper: Shopper, address_id: int, address: AddressInput) -> AddressView:
    _check(address)
    async with write_transaction() as conn:
        await lock_shopper(conn, user_id=shopper.user_id)  # one shopper's address book at a time
        row = await _own(shopper, address_id, conn)
        if address.is_default and not row.is_default:
            await Address.filter(user_id=shopper.user_id).using_db(conn).update(is_default=False)
        # Unsetting the default is not possible by editing: choose another address as default.
        keep_default = row.is_default or address.is_default
        await Address.filter(id=row.id).using_db(conn).update(**_fields(address), is_default=keep_default)
    return await get_address(shopper=shopper, address_id=address_id)


@unit_of_work
async def delete_address(*, shopper: Shopper, address_id: int) -> None:
    async with write_transaction() as conn:
        await lock_shopper(conn, user_id=shopper.user_id)  # one shopper's address book at a time
        row = await _own(shopper, address_id, conn)
        await Address.filter(id=row.id).using_db(conn).delete()
        if row.is_default:  # the most recently used one takes over
            successor = (
                await Address.filter(user_id=shopper.user_id)
                .using_db(conn)
                .order_by("-updated_at", "-id")
                .first()
            )
            if successor:
                await Address.filter(id=successor.id).using_db(conn).update(is_default=True)


async def _own(shopper: Shopper, address_id: int, conn=None) -> Address:
    query = Address.get_or_none(id=address_id, user_id=shopper.user_id)
    row = await (query.using_db(conn) if conn else query)
    if row is None:
        raise AddressError.NOT_FOUND.error()
    return row


def _check(address: AddressInput) -> None:
    """Every field filled after stripping, none holding a control character (a NUL, an escape,
    a line break: nothing a courier could print), and an 11-digit mobile number."""
    fields = _fields(address)
    if any(unicodedata.category(c) == "Cc" for value in fields.values() for c in value):
        raise AddressError.INVALID_CHARACTERS.error()
    if not all(fields.values()):
        raise AddressError.INCOMPLETE.error()
    if not _MOBILE.fullmatch(address.phone):
        raise AddressError.INVALID_PHONE.error()


def _fields(address: AddressInput) -> dict[str, str]:
    return {
        "receiver_name": address.receiver_name.strip(),
        "phone": address.phone,
        "province": address.province.strip(),
        "city": address.city.strip(),
        "district": address.district.strip(),
        "detail": address.detail.strip(),
    }


def _view(row: Address) -> AddressView:
    return AddressView(
        id=row.id,
        receiver_name=row.receiver_name,
        phone=row.phone,
        province=row.province,
        city=row.city,
        district=row.district,
        detail=row.detail,
        is_default=row.is_default,
    )
