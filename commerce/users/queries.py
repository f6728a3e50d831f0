"""Reads of shoppers for system work in other contexts (no ownership check: the callers are jobs,
not shoppers): the contacts the fraud signals compare."""

from __future__ import annotations

from dataclasses import dataclass

from commerce.users.models import Address, User


@dataclass(frozen=True)
class SavedAddress:
    province: str
    city: str
    district: str
    detail: str
    phone: str


@dataclass(frozen=True)
class Contacts:
    user_id: int
    phone: str  # bound through getPhoneNumber, "" when never bound
    addresses: list[SavedAddress]

    @property
    def phones(self) -> set[str]:
        """Every number the shopper gave: bound, and on their delivery addresses."""
        return {p for p in (self.phone, *(a.phone for a in self.addresses)) if p}


async def contacts_of(user_ids: list[int]) -> dict[int, Contacts]:
    """The phone and saved delivery addresses of each shopper (two queries)."""
    if not user_ids:
        return {}
    ids = sorted(set(user_ids))
    saved: dict[int, list[SavedAddress]] = {}
    for user_id, province, city, district, detail, phone in (
        await Address.filter(user_id__in=ids)
        .order_by("user_id", "id")
        .values_list("user_id", "province", "city", "district", "detail", "phone")
    ):
        saved.setdefault(user_id, []).append(SavedAddress(province, city, district, detail, phone))
    phones = dict(await User.filter(id__in=ids).values_list("id", "phone"))
    return {
        user_id: Contacts(user_id, phones.get(user_id) or "", saved.get(user_id, []))
        for user_id in ids
        if user_id in phones
    }
