"""The pricing step of a checkout in a community sale (Choices.community_sale_id): each line
must be an item of that sale, open and before its cut-off; the line gets a "community"
adjustment (community price − list price); the order is collected at an approved leader's
point (pickup: the Shipping step charges no fee). It declares the "community" claim, which
re-checks the sale in the order's transaction and records the order in it."""

from __future__ import annotations

from dataclasses import dataclass

from commerce.community.claims import sale_claim
from commerce.community.errors import SaleError
from commerce.community.models import CommunitySale, CommunitySaleItem, Leader
from commerce.community.states import LeaderStatus, SaleStatus
from commerce.fulfilment.queries import PickupPointView
from commerce.pricing.pipeline import Adjustment, Choices, OrderDraft, PricingContext, PricingStep

COMMUNITY = "community"  # the adjustment's kind
LABEL = "社区团购价"


@dataclass(frozen=True)
class CommunityPrice:
    sale_id: int
    point: PickupPointView | None

    async def apply(self, context: PricingContext, draft: OrderDraft) -> None:
        if not draft.lines:
            return
        if self.point is None or context.fulfilment != "pickup":
            raise SaleError.PICKUP_REQUIRED.error()
        if not await Leader.exists(pickup_point_id=self.point.id, status=LeaderStatus.APPROVED):
            raise SaleError.NOT_LEADERS_POINT.error()
        now = context.now
        if not await CommunitySale.exists(
            id=self.sale_id, status=SaleStatus.OPEN, starts_at__lte=now, cutoff_at__gt=now
        ):
            raise SaleError.CLOSED.error()
        skus = [line.sku_id for line in draft.lines]
        prices = dict(
            await CommunitySaleItem.filter(sale_id=self.sale_id, sku_id__in=skus).values_list(
                "sku_id", "community_price"
            )
        )
        if set(skus) - set(prices):
            raise SaleError.NOT_IN_SALE.error()
        for line in draft.lines:
            cut = (prices[line.sku_id] - line.unit_price) * line.quantity
            if cut < 0:  # a list price lowered below the community price since: the list price
                draft.adjustments.append(
                    Adjustment(COMMUNITY, LABEL, cut, source_id=str(self.sale_id), sku_ids=(line.sku_id,))
                )
        draft.claims.append(
            sale_claim(
                sale_id=self.sale_id, user_id=context.user_id, pickup_point_id=self.point.id, sku_ids=skus
            )
        )


def community_steps(choices: Choices | None, point: PickupPointView | None) -> tuple[PricingStep, ...]:
    """The step when the checkout is in a community sale; none otherwise."""
    if choices is None or choices.community_sale_id is None:
        return ()
    return (CommunityPrice(sale_id=choices.community_sale_id, point=point),)
