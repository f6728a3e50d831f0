"""The FAQ: answering a follower's question from the knowledge base merchants keep, and
keeping that knowledge base.

Matching runs on every message the bot gets, so the entries live in memory, segmented once.
That memory is a cache of the table: each process asks the database at most once a second
whether anything changed (count, newest id and updated_at) and reloads when it did, so an edit
made through any process is answered within a second everywhere (at once in its own).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from commerce import clock
from commerce.config import Settings
from commerce.db import fetch_rows
from commerce.shipping.fees import shipping_terms_text
from commerce.support import faq_text
from commerce.support.errors import MAX_ANSWER_CHARS, MAX_QUESTION_CHARS, MAX_VARIANTS, SupportError
from commerce.support.faq_starter import SHIPPING_TERMS, STARTER_FAQ
from commerce.support.models import FaqEntry

log = logging.getLogger(__name__)

REFRESH_INTERVAL = timedelta(seconds=1)
DEFAULT_THRESHOLD = 72.0


@dataclass(frozen=True)
class FaqMatch:
    entry_id: int
    question: str
    answer: str
    score: float  # 0-100


@dataclass(frozen=True)
class FaqView:
    id: int
    merchant_id: int | None
    question: str
    variants: list[str]
    answer: str
    enabled: bool
    updated_by: str
    created_at: datetime
    updated_at: datetime


# --- matching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Phrasing:
    entry_id: int
    analysed: faq_text.Analysed


@dataclass
class _Index:
    entries: dict[int, tuple[int | None, str, str]] = field(default_factory=dict)  # merchant, q, answer
    # (merchant_id or None, content word) -> the phrasings with that word
    by_word: dict[tuple[int | None, str], list[_Phrasing]] = field(default_factory=dict)

    @classmethod
    async def load(cls) -> _Index:
        index = cls()
        rows = await FaqEntry.filter(enabled=True).values_list(
            "id", "merchant_id", "question", "variants", "answer"
        )
        for entry_id, merchant_id, question, variants, answer in rows:
            index.entries[entry_id] = (merchant_id, question, answer)
            for text in dict.fromkeys([question, *(variants or [])]):
                phrasing = _Phrasing(entry_id, faq_text.analyse(text))
                for word in phrasing.analysed.content:
                    index.by_word.setdefault((merchant_id, word), []).append(phrasing)
        return index


class _FaqCache:
    def __init__(self) -> None:
        self._index = _Index()
        self._signature: tuple | None = None
        self._checked_at: datetime | None = None
        # The event loop the index was read under: a new loop (a restarted app, a new test)
        # means new database connections, perhaps to another database.
        self._loop: weakref.ref | None = None

    def forget(self) -> None:
        """Reload before the next match (this process changed the table)."""
        self._signature = None
        self._checked_at = None

    async def current(self) -> _Index:
        now, loop = clock.now(), asyncio.get_running_loop()
        same_loop = self._loop is not None and self._loop() is loop
        checked = self._checked_at
        if same_loop and checked is not None and timedelta(0) <= now - checked < REFRESH_INTERVAL:
            return self._index
        signature = await _signature()  # before reading: a change meanwhile is seen next time
        if signature != self._signature or not same_loop:
            self._index = await _Index.load()
        self._signature, self._checked_at, self._loop = signature, now, weakref.ref(loop)
        return self._index


async def _signature() -> tuple:
    rows = await fetch_rows(
        "SELECT COUNT(*) AS `n`, MAX(`id`) AS `top`, MAX(`updated_at`) AS `newest` FROM `faq_entry`", []
    )
    row = rows[0]
    return row["n"], row["top"], str(row["newest"])


_cache = _FaqCache()


def forget_faq_cache() -> None:
    """Make every match re-read the FAQ first (after changing the table behind the services)."""
    _cache.forget()


async def match_faq(
    text: str, *, threshold: float = DEFAULT_THRESHOLD, merchant_id: int | None = None
) -> FaqMatch | None:
    """The enabled entry the follower's text asks, when one scores at least `threshold`.

    Without merchant_id only platform-wide entries are considered; with one, that merchant's
    entries and the platform-wide ones (the merchant's win a tie).
    """
    if faq_text.is_too_short(text):
        return None
    asked = faq_text.analyse(text)
    if not asked.content:
        return None
    index = await _cache.current()
    best: tuple[float, bool, int] | None = None  # (score, the merchant's own, -entry_id)
    scored: set[int] = set()
    scopes = [None] if merchant_id is None else [merchant_id, None]
    for scope in scopes:
        for word in asked.content:
            for phrasing in index.by_word.get((scope, word), ()):
                if id(phrasing) in scored:
                    continue
                scored.add(id(phrasing))
                rank = (faq_text.score(asked, phrasing.analysed), scope is not None, -phrasing.entry_id)
                if best is None or rank > best:
                    best = rank
    if best is None or best[0] < threshold:
        return None
    entry_id = -best[2]
    _, question, answer = index.entries[entry_id]
    return FaqMatch(entry_id=entry_id, question=question, answer=answer, score=round(best[0], 1))


# --- keeping the knowledge base --------------------------------------------------------------


async def create_faq(
    *, question: str, variants: list[str], answer: str, merchant_id: int | None = None, actor: str
) -> FaqView:
    question, variants, answer = _clean(question, variants, answer)
    now = clock.now()
    entry = await FaqEntry.create(
        merchant_id=merchant_id,
        question=question,
        variants=variants,
        answer=answer,
        enabled=True,
        updated_by=actor,
        created_at=now,
        updated_at=now,
    )
    _cache.forget()
    return _view(entry)


async def update_faq(
    *,
    entry_id: int,
    actor: str,
    question: str | None = None,
    variants: list[str] | None = None,
    answer: str | None = None,
) -> FaqView:
    """Change what is given; what is not given stays."""
    entry = await _get(entry_id)
    question, variants, answer = _clean(
        entry.question if question is None else question,
        entry.variants if variants is None else variants,
        entry.answer if answer is None else answer,
    )
    return await _change(entry_id, actor, question=question, variants=variants, answer=answer)


async def set_faq_enabled(*, entry_id: int, enabled: bool, actor: str) -> FaqView:
    """A disabled entry is kept but never answers."""
    await _get(entry_id)
    return await _change(entry_id, actor, enabled=enabled)


async def delete_faq(*, entry_id: int, actor: str) -> None:
    if not await FaqEntry.filter(id=entry_id).delete():
        raise SupportError.FAQ_NOT_FOUND.error()
    log.info("FAQ entry %s deleted by %s", entry_id, actor)
    _cache.forget()


async def get_faq(*, entry_id: int) -> FaqView:
    """One entry (the edge checks it is the staff member's merchant before changing it)."""
    return _view(await _get(entry_id))


async def list_faq(*, merchant_id: int | None = None, include_disabled: bool = False) -> list[FaqView]:
    """A merchant's entries, or the platform-wide ones without merchant_id; oldest first."""
    query = FaqEntry.filter(merchant_id=merchant_id)
    if not include_disabled:
        query = query.filter(enabled=True)
    return [_view(entry) for entry in await query.order_by("id")]


async def seed_starter_faq(*, settings: Settings | None = None) -> int:
    """Add the starter entries whose question is not there yet (platform-wide); how many were.
    The shipping answer states the settings' default rule (without settings: the defaults)."""
    terms = shipping_terms_text(settings or Settings.model_construct())
    present = set(await FaqEntry.filter(merchant_id=None).values_list("question", flat=True))
    added = 0
    for starter in STARTER_FAQ:
        if starter.question not in present:
            await create_faq(
                question=starter.question,
                variants=list(starter.variants),
                answer=starter.answer.replace(SHIPPING_TERMS, terms),
                actor="system:seed",
            )
            added += 1
    return added


async def _change(entry_id: int, actor: str, **changes) -> FaqView:
    # updated_at moves with every change: the other processes' matchers reload on it.
    await FaqEntry.filter(id=entry_id).update(**changes, updated_by=actor, updated_at=clock.now())
    _cache.forget()
    return _view(await _get(entry_id))


async def _get(entry_id: int) -> FaqEntry:
    entry = await FaqEntry.get_or_none(id=entry_id)
    if entry is None:
        raise SupportError.FAQ_NOT_FOUND.error()
    return entry


def _clean(question: str, variants: list[str], answer: str) -> tuple[str, list[str], str]:
    question, answer = (question or "").strip(), (answer or "").strip()
    if not isinstance(variants, list | tuple) or not all(isinstance(v, str) for v in variants):
        raise SupportError.FAQ_INVALID.error(fields=[{"field": "variants"}])
    cleaned = [v for v in dict.fromkeys(v.strip() for v in variants) if v and v != question]
    problems = []
    if not question or len(question) > MAX_QUESTION_CHARS:
        problems.append({"field": "question"})
    if not answer or len(answer) > MAX_ANSWER_CHARS:
        problems.append({"field": "answer"})
    if len(cleaned) > MAX_VARIANTS or any(len(v) > MAX_QUESTION_CHARS for v in cleaned):
        problems.append({"field": "variants"})
    if problems:
        raise SupportError.FAQ_INVALID.error(fields=problems)
    return question, cleaned, answer


def _view(entry: FaqEntry) -> FaqView:
    return FaqView(
        id=entry.id,
        merchant_id=entry.merchant_id,
        question=entry.question,
        variants=list(entry.variants or []),
        answer=entry.answer,
        enabled=entry.enabled,
        updated_by=entry.updated_by,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
    )
