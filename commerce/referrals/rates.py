"""KOLs' commission rates: a KOL's tier has a rate per category (its descendants without one of
their own take it) and a default (`rate_bps`); the second level earns the flat
`second_level_bps` of the second-level KOL's own tier. The rate is stamped on each line of a
commission when it accrues, so a later change never rewrites history. Categories are read
through the catalog's queries."""

from __future__ import annotations

from dataclasses import dataclass

from commerce.catalog import queries as catalog
from commerce.referrals.models import KolTier, KolTierRate


@dataclass(frozen=True)
class LineRate:
    rate_bps: int
    category_id: int | None  # the product's own category (what the line is reported under)


async def rates_for_products(tier_id: int | None, product_ids: list[int]) -> dict[int, LineRate]:
    """Product id -> the level-1 rate of the tier: the tier's rate of the product's category,
    else of its nearest ancestor with one, else the tier's default (0 without a tier)."""
    ids = sorted(set(product_ids))
    chains = await catalog.category_chains(ids)
    tier = await KolTier.get_or_none(id=tier_id) if tier_id is not None else None
    default = tier.rate_bps if tier is not None else 0
    categories = sorted({c for chain in chains.values() for c in chain})
    by_category: dict[int, int] = {}
    if tier is not None and categories:
        by_category = dict(
            await KolTierRate.filter(tier_id=tier.id, category_id__in=categories).values_list(
                "category_id", "rate_bps"
            )
        )
    found = {}
    for product_id in ids:
        chain = chains.get(product_id, [])
        rate = next((by_category[c] for c in chain if c in by_category), default)
        found[product_id] = LineRate(rate, chain[0] if chain else None)
    return found


async def second_level_rates(tier_id: int | None, product_ids: list[int]) -> dict[int, LineRate]:
    """Product id -> the level-2 rate: the tier's flat second_level_bps for every product."""
    ids = sorted(set(product_ids))
    chains = await catalog.category_chains(ids)
    tier = await KolTier.get_or_none(id=tier_id) if tier_id is not None else None
    rate = tier.second_level_bps if tier is not None else 0
    return {p: LineRate(rate, chains[p][0] if chains.get(p) else None) for p in ids}
