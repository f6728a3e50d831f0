"""The shopper's choice at checkout: delivery by a carrier (the default), or collection at a
pickup point serving every merchant of the checkout, with a contact instead of an address."""

from __future__ import annotations

import re
from dataclasses import dataclass

from commerce.fulfilment.errors import FulfilmentError
from commerce.fulfilment.models import PickupPoint
from commerce.fulfilment.queries import PickupPointView, point_view, serves
from commerce.fulfilment.states import FulfilmentKind
from commerce.pricing.pipeline import OrderDraft, PricingContext

_PHONE = re.compile(r"^1[0-9]{10}$")


@dataclass(frozen=True)
class FulfilmentChoice:
    kind: FulfilmentKind = FulfilmentKind.EXPRESS  # express or pickup (none is the merchant's)
    pickup_point_id: int | None = None  # pickup


@dataclass(frozen=True)
class Contact:
    """Who collects a pickup order."""

    name: str
    phone: str


async def chosen_point(choice: FulfilmentChoice | None) -> PickupPointView | None:
    """The active point a pickup checkout chose; None for delivery. A missing or closed point
    is refused (whether it serves the checkout's merchants is ServedAt's to say)."""
    if choice is None or choice.kind is not FulfilmentKind.PICKUP:
        return None
    point = await PickupPoint.get_or_none(id=choice.pickup_point_id or 0, active=True)
    if point is None:
        raise FulfilmentError.POINT_NOT_FOUND.error()
    return point_view(point)


def checked_contact(contact: Contact | None) -> Contact:
    name, phone = (contact.name.strip(), contact.phone.strip()) if contact else ("", "")
    if not name or len(name) > 32 or not _PHONE.match(phone):
        raise FulfilmentError.CONTACT_REQUIRED.error()
    return Contact(name=name, phone=phone)


@dataclass(frozen=True)
class ServedAt:
    """A pricing step of a pickup checkout: the chosen point must serve each merchant's order
    (the platform's points serve all, a merchant's its own), else the checkout is refused."""

    point: PickupPointView

    async def apply(self, context: PricingContext, draft: OrderDraft) -> None:
        if draft.lines and not serves(self.point, draft.merchant_id):
            raise FulfilmentError.POINT_NOT_SERVING.error()
        if self.point.community and context.choices.community_sale_id is None:
            raise FulfilmentError.COMMUNITY_POINT.error()
