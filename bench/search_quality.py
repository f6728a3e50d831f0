"""Search quality: hit@5 of realistic shopper queries on the demo catalog, per kind and overall.

    .venv/bin/python -m bench.search_quality [--set heldout|tuning|both] [--misses]

Each query names the products a shopper means (tests/data/shopper_queries_*.tsv); a query is a
hit when one of them is among the first five results. The held-out set is only measured: tune
on the tuning set.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tortoise import Tortoise

from commerce.catalog.demo import seed_demo_catalog
from commerce.catalog.models import Product
from commerce.catalog.search import CatalogSearch, SearchParams
from commerce.db import tortoise_config

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = {"tuning": DATA / "shopper_queries_tuning.tsv", "heldout": DATA / "shopper_queries_heldout.tsv"}


@dataclass(frozen=True)
class ShopperQuery:
    kind: str
    text: str
    intended: frozenset[str]  # spu codes


def _codes(field: str) -> frozenset[str]:
    codes: set[str] = set()
    for part in field.split():
        if "-" in part:
            first, last = part.split("-")
            codes.update(f"D{n:04d}" for n in range(int(first[1:]), int(last[1:]) + 1))
        else:
            codes.add(part)
    return frozenset(codes)


def load_queries(name: str) -> list[ShopperQuery]:
    queries = []
    for line in SETS[name].read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, text, codes = line.split("\t")
            queries.append(ShopperQuery(kind, text, _codes(codes)))
    return queries


async def spu_codes() -> dict[int, str]:
    return dict(await Product.all().values_list("id", "spu_code"))


def top_codes(index: CatalogSearch, codes: dict[int, str], query: str, limit: int = 5) -> list[str]:
    return [codes[card.id] for card in index.search_now(SearchParams(text=query, limit=limit)).items]


def hit_rates(
    index: CatalogSearch, codes: dict[int, str], queries: list[ShopperQuery]
) -> tuple[dict[str, tuple[int, int]], list[tuple[ShopperQuery, list[str]]]]:
    """(hits, total) per kind and under "overall"; and the misses with what came back instead."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for query in queries:
        top = top_codes(index, codes, query.text)
        hit = bool(query.intended & set(top))
        for kind in (query.kind, "overall"):
            tally[kind][0] += hit
            tally[kind][1] += 1
        if not hit:
            misses.append((query, top))
    return {kind: (h, n) for kind, (h, n) in tally.items()}, misses


async def overall_rates(set_names: list[str]) -> dict[str, tuple[int, int]]:
    """(hits, total) of all the queries of each named set, on the demo catalog."""
    with tempfile.TemporaryDirectory() as folder:
        await Tortoise.init(config=tortoise_config(f"sqlite://{Path(folder) / 'quality.sqlite3'}"))
        try:
            await Tortoise.generate_schemas()
            await seed_demo_catalog()
            index = CatalogSearch(refresh_seconds=3600)
            await index.rebuild()
            codes = await spu_codes()
            return {name: hit_rates(index, codes, load_queries(name))[0]["overall"] for name in set_names}
        finally:
            await Tortoise.close_connections()


async def measure(set_names: list[str], show_misses: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        await Tortoise.init(config=tortoise_config(f"sqlite://{Path(folder) / 'quality.sqlite3'}"))
        await Tortoise.generate_schemas()
        await seed_demo_catalog()
        index = CatalogSearch(refresh_seconds=3600)
        await index.rebuild()
        codes = await spu_codes()
        titles = dict(await Product.all().values_list("spu_code", "title"))
        for name in set_names:
            rates, misses = hit_rates(index, codes, load_queries(name))
            print(f"{name}: hit@5")
            for kind, (hits, total) in sorted(rates.items(), key=lambda kv: kv[0] == "overall"):
                print(f"  {kind:<12} {hits:>3}/{total:<3} {100 * hits / total:5.1f}%")
            if show_misses:
                for query, top in misses:
                    print(f"  miss [{query.kind}] {query.text!r}: {[titles[c] for c in top]}")
        await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", choices=["heldout", "tuning", "both"], default="both")
    parser.add_argument("--misses", action="store_true", help="list the queries that missed")
    args = parser.parse_args()
    names = ["tuning", "heldout"] if args.set == "both" else [args.set]
    asyncio.run(measure(names, args.misses))


if __name__ == "__main__":
    main()
