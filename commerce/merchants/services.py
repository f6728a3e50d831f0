"""Merchants: the platform's default merchant for imports and the demo, and the merchants the
platform admin creates."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from commerce import clock
from commerce.audit import services as audit
from commerce.catalog import services as catalog
from commerce.merchants.errors import MerchantError
from commerce.merchants.models import Merchant
from commerce.merchants.states import MerchantStatus
from commerce.staff import services as staff_accounts
from commerce.transactions import unit_of_work, write_transaction

DEFAULT_MERCHANT_CODE = "self"
DEFAULT_MERCHANT_NAME = "平台自营"
_CODE = re.compile(r"^[a-z0-9-]{2,32}$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")


async def ensure_merchant(*, code: str = DEFAULT_MERCHANT_CODE, name: str = DEFAULT_MERCHANT_NAME) -> int:
    """The id of the merchant with this code, created on first use."""
    merchant, _ = await Merchant.get_or_create(code=code, defaults={"name": name})
    return merchant.id


async def merchant_ids_by_code() -> dict[str, int]:
    """Every merchant's id by its code (importers resolve a "merchant" column with it)."""
    return dict(await Merchant.all().values_list("code", "id"))


@dataclass(frozen=True)
class MerchantView:
    id: int
    code: str
    name: str
    contact_name: str
    contact_phone: str
    status: MerchantStatus


@unit_of_work
async def create_merchant(
    *, code: str, name: str, contact_name: str, contact_phone: str, actor: str
) -> MerchantView:
    """A new merchant (the platform admin makes them); recorded in the audit log."""
    code, name = (code or "").strip(), (name or "").strip()
    contact_name, contact_phone = (contact_name or "").strip(), (contact_phone or "").strip()
    if not _CODE.match(code) or not 1 <= len(name) <= 100 or len(contact_name) > 50:
        raise MerchantError.INVALID.error()
    if contact_phone and not _PHONE.match(contact_phone):
        raise MerchantError.INVALID.error("联系电话须为 11 位手机号")
    try:
        async with write_transaction() as conn:
            merchant = await Merchant.create(
                code=code, name=name, contact_name=contact_name, contact_phone=contact_phone, using_db=conn
            )
            await audit.record(
                actor=actor,
                action="merchant.create",
                object_type="merchant",
                object_id=merchant.id,
                summary=f"{name}（{code}）",
                after={"code": code, "name": name, "contact_name": contact_name},
                connection=conn,
            )
    except IntegrityError:
        raise MerchantError.CODE_TAKEN.error() from None
    return _view(merchant)


@unit_of_work
async def change_merchant_status(
    *, merchant_id: int, status: MerchantStatus, reason: str, actor: str
) -> MerchantView:
    """Suspend a merchant (its products leave the shop at once: hidden from search and pages,
    not buyable; orders already paid still get shipped and refunded) or let it trade again."""
    reason = (reason or "").strip()
    if status is MerchantStatus.SUSPENDED and not 1 <= len(reason) <= 200:
        raise MerchantError.REASON_REQUIRED.error()
    async with write_transaction() as conn:
        before = await Merchant.get_or_none(id=merchant_id).using_db(conn)
        if before is None:
            raise MerchantError.NOT_FOUND.error()
        if before.status == status:
            return _view(before)  # asked twice: nothing to do
        moved = await (
            Merchant.filter(id=merchant_id, status=before.status).using_db(conn).update(status=status)
        )
        if not moved:  # someone changed it first: let them re-read the page
            raise MerchantError.CHANGED.error()
        await catalog.touch_merchant_products(merchant_id=merchant_id, connection=conn)
        signed_out = 0
        if status is MerchantStatus.SUSPENDED:  # its people are signed out everywhere, at once
            signed_out = await staff_accounts.end_sessions_of_merchant(
                merchant_id=merchant_id, connection=conn
            )
        await audit.record(
            actor=actor,
            action="merchant.status",
            object_type="merchant",
            object_id=merchant_id,
            summary=f"{before.name}：{STATUS_TEXT[before.status]} → {STATUS_TEXT[status]} {reason}".strip(),
            before={"status": before.status.value},
            after={"status": status.value, "reason": reason, "at": clock.now().isoformat()}
            | ({"staff_signed_out": signed_out} if signed_out else {}),
            connection=conn,
        )
        before.status = status
    return _view(before)


STATUS_TEXT = {MerchantStatus.ACTIVE: "营业中", MerchantStatus.SUSPENDED: "已暂停"}


async def is_trading(*, merchant_id: int) -> bool:
    """Whether the merchant may trade (and its people sign in): it exists and is not suspended."""
    return await Merchant.exists(id=merchant_id, status=MerchantStatus.ACTIVE)


async def list_merchants() -> list[MerchantView]:
    return [_view(m) for m in await Merchant.all().order_by("id")]


async def get_merchant(*, merchant_id: int) -> MerchantView:
    merchant = await Merchant.get_or_none(id=merchant_id)
    if merchant is None:
        raise MerchantError.NOT_FOUND.error()
    return _view(merchant)


def _view(m: Merchant) -> MerchantView:
    return MerchantView(m.id, m.code, m.name, m.contact_name, m.contact_phone, MerchantStatus(m.status))
