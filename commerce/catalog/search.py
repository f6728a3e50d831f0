"""The catalog search index: an in-memory cache of the on-sale catalog, in every process.

Built at start, then kept current by asking the database (at most every few hundred ms) for
the newest Product.updated_at: products changed since are reloaded. That works across
processes and for `shop import-products` run beside `shop serve`, whatever Redis is.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapidfuzz import fuzz, process
from tortoise.exceptions import OperationalError

from commerce.catalog import search_text as text
from commerce.catalog.models import Category, Product, Sku
from commerce.catalog.search_pinyin import PinyinVocabulary
from commerce.catalog.states import ProductStatus, SortOrder
from commerce.merchants.states import MerchantStatus

log = logging.getLogger(__name__)

# Changes are re-read from this far before the newest one seen: covers transactions that
# commit a little after they stamped updated_at, and small clock differences between hosts.
LOOKBACK = timedelta(seconds=5)
MAX_CACHED_LISTINGS = 512
TITLE, LEAF_CATEGORY, CATEGORY, SUBTITLE, SPECS = 3.0, 2.0, 1.0, 1.0, 0.5
# How sure a word found by its sound is: its pinyin, its initials, a homophone typo.
PINYIN, INITIALS, HOMOPHONE = 0.9, 0.8, 0.8
# Bigrams and single characters back words up; they count for less.
_TERM_FACTOR = {text.BIGRAM_PREFIX: 0.5, text.CHAR_PREFIX: 0.3}


@dataclass(frozen=True)
class ProductCard:
    id: int
    title: str
    subtitle: str
    image: str
    category_id: int
    min_price: int
    max_price: int
    market_price: int
    sales: int
    in_stock: bool
    created_at: datetime


@dataclass(frozen=True)
class SearchParams:
    text: str = ""
    category_path: str | None = None  # a Category.path: that category and its descendants
    min_price: int | None = None  # fen, compared with the product's lowest price
    max_price: int | None = None
    in_stock: bool = False
    sort: SortOrder = SortOrder.RELEVANCE
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True)
class SearchHits:
    items: list[ProductCard]
    total: int


@dataclass(frozen=True)
class _Doc:
    card: ProductCard
    category_path: str
    terms: dict[str, float]  # term -> weight (the strongest field it appears in)


class CatalogSearch:
    def __init__(self, *, refresh_seconds: float = 0.5) -> None:
        self._refresh_seconds = refresh_seconds
        self._docs: dict[int, _Doc] = {}
        self._postings: dict[str, dict[int, float]] = {}
        self._pinyin = _pinyin_vocabulary()
        self._categories: dict[int, tuple[str, str]] = {}  # id -> (name, path)
        self._category_words: set[str] | None = None
        self._seen_until: datetime | None = None
        self._checked_at = 0.0
        self.loaded = False  # built once: a process answers searches only then (readiness)
        self._sorted: dict[SortOrder, list[int]] = {}
        self._listings: OrderedDict[tuple, list[int]] = OrderedDict()
        self._latin_vocab: list[str] | None = None
        # Product pages built by the queries, dropped whenever their product changes.
        self._details: dict[int, object] = {}

    # --- keeping current -------------------------------------------------------------------

    async def rebuild(self) -> None:
        """Load every on-sale product afresh."""
        text.prepare_segmenter()
        self._docs.clear()
        self._postings.clear()
        self._pinyin = _pinyin_vocabulary()
        self._details.clear()
        self._seen_until = await _newest_change()
        await self._load_categories()
        await self._reload(await _shown_to_shoppers().values_list("id", flat=True))
        self._checked_at = time.monotonic()
        self.loaded = True

    async def refresh_if_changed(self) -> None:
        """Catch up with changes made by any process (cheap when there are none)."""
        now = time.monotonic()
        if now - self._checked_at < self._refresh_seconds:
            return
        self._checked_at = now
        try:
            newest = await _newest_change()
            if newest is None or (self._seen_until is not None and newest <= self._seen_until):
                return
            since = (self._seen_until or newest) - LOOKBACK
            await self._reload(await Product.filter(updated_at__gte=since).values_list("id", flat=True))
            self._seen_until = newest
        except OperationalError:
            # The database is unreachable: keep serving what the index has; retry next time.
            log.warning("catalog refresh failed; serving the index as it is", exc_info=True)

    async def _load_categories(self) -> None:
        rows = await Category.all().values_list("id", "name", "path")
        self._categories = {cid: (name, path) for cid, name, path in rows}
        self._category_words = None

    async def category_path(self, category_id: int) -> str | None:
        """A category's path ("/1/5/"), or None when there is no such category."""
        found = self._categories.get(category_id)
        if found is not None:
            return found[1]
        # Unknown here: created since the last load, or no such category. Ask for that one row.
        row = await Category.filter(id=category_id).values_list("name", "path")
        if not row:
            return None
        self._categories[category_id] = row[0]
        self._category_words = None
        return row[0][1]

    def is_listed(self, product_id: int) -> bool:
        """Whether the product is on sale, as of the last refresh."""
        return product_id in self._docs

    def cached_detail(self, product_id: int) -> object | None:
        return self._details.get(product_id)

    def cache_detail(self, product_id: int, detail: object) -> None:
        if product_id in self._docs:
            self._details[product_id] = detail

    async def _reload(self, product_ids: Iterable[int]) -> None:
        ids = list(product_ids)
        for chunk_start in range(0, len(ids), 2000):
            await self._reload_chunk(ids[chunk_start : chunk_start + 2000])
        self._forget_orders()
        self._latin_vocab = None

    async def _reload_chunk(self, ids: list[int]) -> None:
        for product_id in ids:
            self._remove(product_id)
        products = (
            await _shown_to_shoppers()
            .filter(id__in=ids)
            .values(
                "id",
                "title",
                "subtitle",
                "images",
                "category_id",
                "min_price",
                "max_price",
                "sales",
                "created_at",
            )
        )
        if not products:
            return
        skus: dict[int, list[dict]] = {}
        for sku in await Sku.filter(product_id__in=[p["id"] for p in products], retired_at=None).values(
            "product_id", "specs", "price", "market_price", "stock"
        ):
            skus.setdefault(sku["product_id"], []).append(sku)
        if any(p["category_id"] not in self._categories for p in products):
            await self._load_categories()
        for product in products:
            text.learn_words(product["title"])
        for product in products:
            self._add(self._document(product, skus.get(product["id"], [])))

    def _document(self, product: dict, skus: list[dict]) -> _Doc:
        name, path = self._categories.get(product["category_id"], ("", "/"))
        cheapest = min(skus, key=lambda sku: sku["price"], default=None)
        card = ProductCard(
            id=product["id"],
            title=product["title"],
            subtitle=product["subtitle"],
            image=(product["images"] or [""])[0],
            category_id=product["category_id"],
            min_price=product["min_price"],
            max_price=product["max_price"],
            market_price=cheapest["market_price"] if cheapest else 0,
            sales=product["sales"],
            in_stock=any(sku["stock"] > 0 for sku in skus),
            created_at=product["created_at"],
        )
        ancestors = [
            self._categories[int(i)][0] for i in path.strip("/").split("/")[:-1] if int(i) in self._categories
        ]
        fields = [
            (product["title"], TITLE),
            (name, LEAF_CATEGORY),
            (" ".join(ancestors), CATEGORY),
            (product["subtitle"], SUBTITLE),
            (" ".join(value for sku in skus for value in sku["specs"].values()), SPECS),
        ]
        terms: dict[str, float] = {}
        for field_text, weight in fields:
            for term in text.index_terms(field_text):
                term_weight = weight * _TERM_FACTOR.get(term[0], 1.0)
                if term_weight > terms.get(term, 0.0):
                    terms[term] = term_weight
        return _Doc(card=card, category_path=path, terms=terms)

    def _add(self, doc: _Doc) -> None:
        self._forget_orders()
        self._docs[doc.card.id] = doc
        for term, weight in doc.terms.items():
            posting = self._postings.get(term)
            if posting is None:
                posting = self._postings[term] = {}
                self._pinyin.add(term)
            posting[doc.card.id] = weight

    def clear_result_cache(self) -> None:
        """Forget cached result lists (benchmarks measure the uncached cost with it)."""
        self._listings.clear()

    def _forget_orders(self) -> None:
        """Never serve a sorted or filtered list that misses or names a changed product."""
        self._sorted.clear()
        self._listings.clear()

    def _remove(self, product_id: int) -> None:
        self._forget_orders()
        self._details.pop(product_id, None)
        doc = self._docs.pop(product_id, None)
        if doc is None:
            return
        for term in doc.terms:
            posting = self._postings.get(term)
            if posting is not None:
                posting.pop(product_id, None)
                if not posting:
                    del self._postings[term]
                    if term not in text.SYNONYMS:
                        self._pinyin.discard(term)

    # --- searching -------------------------------------------------------------------------

    async def search(self, params: SearchParams) -> SearchHits:
        await self.refresh_if_changed()
        return self.search_now(params)

    def search_now(self, params: SearchParams) -> SearchHits:
        """Search what is indexed now, without asking the database."""
        query = " ".join(text.normalize(params.text).split())
        if not query and not _has_filters(params):
            ordered = self._sorted_ids(
                SortOrder.NEWEST if params.sort is SortOrder.RELEVANCE else params.sort
            )
            page = ordered[params.offset : params.offset + params.limit]
            return SearchHits(items=[self._docs[i].card for i in page], total=len(ordered))
        key = (query, params.sort, params.category_path, params.min_price, params.max_price, params.in_stock)
        matching = self._listings.get(key)
        if matching is None:
            # Shoppers page through the same lists and search the same words: keep each
            # result list until the catalog changes.
            matching = self._matching(query, params)
            self._listings[key] = matching
            if len(self._listings) > MAX_CACHED_LISTINGS:
                self._listings.popitem(last=False)
        else:
            self._listings.move_to_end(key)
        page = matching[params.offset : params.offset + params.limit]
        return SearchHits(items=[self._docs[i].card for i in page], total=len(matching))

    def _matching(self, query: str, params: SearchParams) -> list[int]:
        if query:
            scores = self._score(query)
            ids = [doc_id for doc_id in scores if self._passes(self._docs[doc_id], params)]
            ids.sort(key=self._sort_key(params.sort, scores))
            return ids
        ordered = self._sorted_ids(SortOrder.NEWEST if params.sort is SortOrder.RELEVANCE else params.sort)
        return [i for i in ordered if self._passes(self._docs[i], params)]

    def __len__(self) -> int:
        return len(self._docs)

    @staticmethod
    def _passes(doc: _Doc, params: SearchParams) -> bool:
        card = doc.card
        if params.category_path and not doc.category_path.startswith(params.category_path):
            return False
        if params.min_price is not None and card.min_price < params.min_price:
            return False
        if params.max_price is not None and card.min_price > params.max_price:
            return False
        return not (params.in_stock and not card.in_stock)

    def _sort_key(self, sort: SortOrder, scores: dict[int, float]):
        docs = self._docs
        if sort is SortOrder.PRICE_ASC:
            return lambda i: (docs[i].card.min_price, -scores[i], i)
        if sort is SortOrder.PRICE_DESC:
            return lambda i: (-docs[i].card.min_price, -scores[i], i)
        if sort is SortOrder.SALES:
            return lambda i: (-docs[i].card.sales, -scores[i], i)
        if sort is SortOrder.NEWEST:
            return lambda i: (-docs[i].card.created_at.timestamp(), -i)
        return lambda i: (-scores[i], -docs[i].card.sales, i)

    def _sorted_ids(self, sort: SortOrder) -> list[int]:
        if sort not in self._sorted:
            self._sorted[sort] = sorted(self._docs, key=self._sort_key(sort, _ZERO))
        return self._sorted[sort]

    def _score(self, query: str) -> dict[int, float]:
        """Relevance of every matching product: words (with synonyms and typo matches) first,
        CJK bigrams as a backstop."""
        groups = self._query_groups(query)
        grams = [g for g in text.query_bigrams(query) if g in self._postings]
        all_grams = len(text.query_bigrams(query))
        total_docs = max(len(self._docs), 1)
        idf = {term: math.log(1 + total_docs / len(self._postings[term])) for g in groups for term in g}
        idf.update({g: math.log(1 + total_docs / len(self._postings[g])) for g in grams})

        word_score: dict[int, float] = {}
        matched_groups: dict[int, int] = {}
        for group in groups:
            best: dict[int, float] = {}
            for term, strength in group.items():
                factor = idf[term] * strength
                for doc_id, weight in self._postings[term].items():
                    value = factor * weight
                    if value > best.get(doc_id, 0.0):
                        best[doc_id] = value
            for doc_id, value in best.items():
                word_score[doc_id] = word_score.get(doc_id, 0.0) + value
                matched_groups[doc_id] = matched_groups.get(doc_id, 0) + 1
        if not grams:
            # Words alone (pinyin, Latin): the rule below comes down to every word found.
            return {
                doc_id: value for doc_id, value in word_score.items() if matched_groups[doc_id] == len(groups)
            }

        gram_score: dict[int, float] = {}
        gram_hits: dict[int, int] = {}
        for gram in grams:
            for doc_id, weight in self._postings[gram].items():
                gram_score[doc_id] = gram_score.get(doc_id, 0.0) + idf[gram] * weight
                gram_hits[doc_id] = gram_hits.get(doc_id, 0) + 1

        scores: dict[int, float] = {}
        for doc_id in set(word_score) | set(gram_score):
            coverage = matched_groups.get(doc_id, 0) / len(groups) if groups else 0.0
            gram_coverage = gram_hits.get(doc_id, 0) / all_grams if all_grams else 0.0
            if not (
                coverage == 1.0
                or (coverage >= 0.5 and gram_coverage >= 0.5)
                or (all_grams >= 2 and gram_coverage >= 0.6)
                or (not groups and gram_coverage >= 0.6)
            ):
                continue
            scores[doc_id] = word_score.get(doc_id, 0.0) * (coverage**2) + gram_score.get(doc_id, 0.0)
        return scores

    def _query_groups(self, query: str) -> list[dict[str, float]]:
        """One group per query word: the indexed terms that stand for it, with strengths."""
        groups: list[dict[str, float]] = []
        for run in text.query_runs(query):
            if not text.is_cjk(run):
                groups.extend(self._latin_groups(run))
            elif len(run) == 1:
                # A one-character query ("梨") means that character.
                group = self._known({text.CHAR_PREFIX + run: 1.0})
                if group:
                    groups.append(group)
            else:
                groups.extend(self._chinese_groups(run))
        return groups

    def _chinese_groups(self, run: str) -> list[dict[str, float]]:
        groups: list[dict[str, float]] = []
        unknown: list[str] = []  # the characters of the run no word stands for, in stretches
        stretch = ""
        for word in text.segment_query(run):
            found: list[dict[str, float]] = []
            if len(word) > 1:
                group = self._with_synonyms(word, 1.0)
                if group:
                    found.append(group)
                else:
                    # A compound the index lacks: its parts, each to be found ("苹果笔记本").
                    found = [g for g in (self._with_synonyms(p, 1.0) for p in text.sub_words(word)) if g]
            if found:
                groups.extend(found)
                unknown.append(stretch)
                stretch = ""
            else:
                stretch += word
        unknown.append(stretch)
        for chinese in unknown:
            # Chinese the index lacks may be a typo of the right sound ("耳鸡" -> 耳机). Whatever
            # does not sound like indexed words either is for the bigrams to judge.
            sounds_like = self._pinyin.homophones(chinese) if len(chinese) > 1 else None
            for words in sounds_like or ():
                group = self._alternatives(words, HOMOPHONE)
                if group:
                    groups.append(group)
        return groups

    def _latin_groups(self, word: str) -> list[dict[str, float]]:
        group = self._with_synonyms(word, 1.0)
        spelled = self._pinyin.by_pinyin(word) if len(word) >= 2 else None
        if spelled and len(spelled) == 1:
            # Pinyin of one word: "xiaomi" is the brand's Latin name and 小米 alike.
            for term, strength in self._alternatives(spelled[0], PINYIN).items():
                group[term] = max(group.get(term, 0.0), strength)
        if group:
            return [group]
        if spelled:
            # Pinyin of several words run together ("huaweishouji" -> 华为 手机).
            return [g for g in (self._alternatives(words, PINYIN) for words in spelled) if g]
        if len(word) >= 2:
            # The initials of one word ("lyej" -> 蓝牙耳机).
            words = self._pinyin.by_initials(word)
            if len(word) == 2:
                # Two letters stand for many words ("sj": 手机, 升级, 四件…): a shopper means a kind
                # of product, so words of category names go first.
                words = [w for w in words if w in self._words_of_categories()] or words
            group = self._alternatives(words, INITIALS)
            if group:
                return [group]
        if len(word) >= 3 and not word.isdigit():
            # A Latin word the index lacks: the closest spellings ("iphnoe" -> "iphone").
            close = process.extract(word, self._latin_words(), scorer=fuzz.ratio, score_cutoff=75, limit=3)
            if close:
                return [{match: 0.8 * score / 100 for match, score, _ in close}]
        # A number or short code no product carries is ignored rather than vetoing the rest.
        return []

    def _with_synonyms(self, word: str, strength: float) -> dict[str, float]:
        """The indexed terms for a word: itself and its synonyms, scaled by how sure we are."""
        candidates = {word: 1.0, **text.SYNONYMS.get(word, {})}
        return {term: strength * s for term, s in candidates.items() if term in self._postings}

    def _alternatives(self, words: list[str], strength: float) -> dict[str, float]:
        """One group for any of several words (the words a pinyin or a sound stands for)."""
        group: dict[str, float] = {}
        for word in words:
            for term, value in self._with_synonyms(word, strength).items():
                group[term] = max(group.get(term, 0.0), value)
        return group

    def _known(self, candidates: dict[str, float]) -> dict[str, float]:
        return {term: strength for term, strength in candidates.items() if term in self._postings}

    def _words_of_categories(self) -> set[str]:
        if self._category_words is None:
            self._category_words = {
                term for name, _ in self._categories.values() for term in text.index_terms(name)
            }
        return self._category_words

    def _latin_words(self) -> list[str]:
        if self._latin_vocab is None:
            self._latin_vocab = [t for t in self._postings if t.isascii() and t.isalpha() and len(t) >= 3]
        return self._latin_vocab


def _pinyin_vocabulary() -> PinyinVocabulary:
    """The sounds of the index's words, and of the everyday names the synonyms know."""
    vocabulary = PinyinVocabulary()
    for word in text.SYNONYMS:
        vocabulary.add(word)
    return vocabulary


class _Zero(dict):
    def __missing__(self, key: int) -> float:
        return 0.0


_ZERO = _Zero()


def _shown_to_shoppers():
    """On sale, by a merchant that is trading (a suspended merchant's products are hidden)."""
    return Product.filter(status=ProductStatus.ON_SALE, merchant__status=MerchantStatus.ACTIVE)


def _has_filters(params: SearchParams) -> bool:
    return bool(
        params.category_path
        or params.min_price is not None
        or params.max_price is not None
        or params.in_stock
    )


async def _newest_change() -> datetime | None:
    newest = await Product.all().order_by("-updated_at").limit(1).values_list("updated_at", flat=True)
    return newest[0] if newest else None
