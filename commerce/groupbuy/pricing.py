"""The 拼团 pricing step: the deal's line at its group price, and the seat it claims."""

from __future__ import annotations

from dataclasses import dataclass

from commerce.groupbuy import queries
from commerce.groupbuy.errors import GroupBuyError
from commerce.pricing.pipeline import Adjustment, Claim, OrderDraft, PricingContext

GROUP = "group"  # the adjustment's kind and the claim's prefix
GROUP_SEAT = "group_seat"


@dataclass(frozen=True)
class GroupPrice:
    """When the shopper chose a group deal: its one line costs the group price (a line
    adjustment of list price less group price) and the order claims a seat in a group."""

    hold_minutes: int

    async def apply(self, context: PricingContext, draft: OrderDraft) -> None:
        choice = context.choices.group
        if choice is None:
            return
        deal = await queries.live_deal(deal_id=choice.deal_id, now=context.now)
        if deal.merchant_id != draft.merchant_id:
            return  # another merchant's order of the same checkout
        lines = [line for line in draft.lines if line.sku_id in deal.prices]
        if len(lines) != 1 or len(draft.lines) != 1:
            raise GroupBuyError.ONE_DEAL_LINE.error()
        line = lines[0]
        if line.quantity > deal.per_shopper_limit:
            raise GroupBuyError.OVER_SHOPPER_LIMIT.error()
        off = max(0, line.unit_price - deal.prices[line.sku_id]) * line.quantity
        if off:
            draft.adjustments.append(
                Adjustment(GROUP, "拼团价", -off, source_id=str(deal.id), sku_ids=(line.sku_id,))
            )
        draft.claims.append(
            Claim(
                GROUP_SEAT,
                str(deal.id),
                1,
                {
                    "group_id": choice.group_id,
                    "user_id": context.user_id,
                    "units": line.quantity,
                    "hold_minutes": self.hold_minutes,
                },
            )
        )
