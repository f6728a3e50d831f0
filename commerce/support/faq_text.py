"""How a follower's question is compared with the FAQ's phrasings.

Both sides are normalised (NFKC, lower case, punctuation and fillers such as 吗/呢/请问 gone)
and segmented with jieba. A phrasing is a candidate only when the two share a content word:
question words (怎么, 多久, 多少钱, 可以) say how something is asked, not what about, so
"iPhone 15 多少钱" never meets "运费多少钱". Candidates are scored by rapidfuzz: half how well
the content words agree, half how alike the whole sentences are.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass

import jieba
from rapidfuzz import fuzz

MIN_CHARS = 3  # "嗯", "好的", "在吗" are not questions the FAQ answers
_PUNCTUATION = re.compile(r"[\W_]+")
_FILLERS = re.compile(r"请问|你好|您好|[吗呢啊呀吧哦嘛]")
# Words that only shape a question; what is left says what it is about.
_QUESTION_WORDS = """
    怎么 怎么样 怎样 如何 什么 时候 什么时候 多久 多长 多长时间 时间 多少 钱 多少钱 可以 可不可以
    能 能不能 不能 会 我 我的 的 你们 你 要 想 我想 我要 是 有 有没有 没有 了 几 几天 天 哪 哪里
    哪儿 到 用 这个 那个 一下 请 谢谢 怎么办 办 不 还 没 一 个 大概 现在 今天 明天 下 后 就 都 也 在
"""
QUESTION_WORDS = frozenset(_QUESTION_WORDS.split())
# Words of customer service jieba would cut apart.
_WORDS = "花呗 到账 包邮 运费 邮费 发票 开票 专票 退换货 无理由 收货地址 转人工 人工客服 货到付款 支付方式"

_ready = False
_lock = threading.Lock()


def prepare() -> None:
    """Load jieba's dictionary and our words, once (about a second: do it at start)."""
    global _ready
    with _lock:
        if _ready:
            return
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        for word in _WORDS.split():
            jieba.add_word(word, freq=20000)
        _ready = True


@dataclass(frozen=True)
class Analysed:
    tokens: str  # every search-mode word, space-joined
    chars: str  # the normalised text without spaces
    content: frozenset[str]  # the words that are not question words
    content_text: str  # the same, space-joined (sorted: stable)


def normalise(text: str) -> str:
    """Half-width, lower case, no punctuation or fillers: "请问，多久发货呀？" -> "多久发货"."""
    text = _PUNCTUATION.sub(" ", unicodedata.normalize("NFKC", text).lower())
    return " ".join(_FILLERS.sub("", text).split())


def is_too_short(text: str) -> bool:
    return len(_PUNCTUATION.sub("", unicodedata.normalize("NFKC", text))) < MIN_CHARS


def analyse(text: str) -> Analysed:
    prepare()
    normal = normalise(text)
    tokens = [word for word in jieba.lcut_for_search(normal) if word.strip()]
    content = frozenset(word for word in tokens if word not in QUESTION_WORDS)
    return Analysed(
        tokens=" ".join(tokens),
        chars=normal.replace(" ", ""),
        content=content,
        content_text=" ".join(sorted(content)),
    )


def score(asked: Analysed, phrasing: Analysed) -> float:
    """0-100: how surely `asked` is `phrasing` said another way. 0 without a shared content word."""
    if not asked.content & phrasing.content:
        return 0.0
    about = fuzz.token_set_ratio(asked.content_text, phrasing.content_text)
    alike = max(fuzz.token_sort_ratio(asked.tokens, phrasing.tokens), fuzz.ratio(asked.chars, phrasing.chars))
    return 0.5 * about + 0.5 * alike
