"""How the index's Chinese words sound: found by pinyin, by initials, and through homophone typos.

A shopper on a phone keyboard types `erji` or `lyej` for 耳机 / 蓝牙耳机, or picks the wrong
character of the right sound (`耳鸡`, `电反锅`). Each word the index holds (two characters or more)
is filed under its toneless pinyin ("erji") and its initials ("ej"); a query's Latin word is
looked up there, and so is the pinyin of Chinese the index does not know.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

_ALL_HAN = re.compile(r"^[\u4e00-\u9fff]{2,}$")
_LATIN = re.compile(r"^[a-z]+$")
MAX_WORD_SYLLABLES = 8
# A pinyin run is cut into at most this many words ("huaweishouji" -> 华为 手机).
MAX_PIECES = 4


@lru_cache(maxsize=200_000)
def syllables(word: str) -> tuple[str, ...]:
    """Toneless pinyin, one syllable a character ("lv" for ü, as phone keyboards take it)."""
    return tuple(lazy_pinyin(word, style=Style.NORMAL, errors="ignore"))


class PinyinVocabulary:
    """The index's Chinese words by sound; kept current as terms come and go."""

    def __init__(self) -> None:
        self._by_pinyin: dict[str, set[str]] = {}
        self._by_initials: dict[str, set[str]] = {}
        self._longest = 0  # the longest pinyin key, in letters (bounds the word-break below)

    @staticmethod
    def files(word: str) -> bool:
        return bool(_ALL_HAN.match(word)) and len(word) <= MAX_WORD_SYLLABLES

    def add(self, word: str) -> None:
        if not self.files(word):
            return
        sounds = syllables(word)
        if len(sounds) != len(word):  # a character pypinyin cannot read: file it nowhere
            return
        full = "".join(sounds)
        self._by_pinyin.setdefault(full, set()).add(word)
        self._by_initials.setdefault("".join(s[0] for s in sounds), set()).add(word)
        self._longest = max(self._longest, len(full))

    def discard(self, word: str) -> None:
        if not self.files(word):
            return
        sounds = syllables(word)
        if len(sounds) != len(word):
            return
        for table, key in (
            (self._by_pinyin, "".join(sounds)),
            (self._by_initials, "".join(s[0] for s in sounds)),
        ):
            words = table.get(key)
            if words is not None:
                words.discard(word)
                if not words:
                    del table[key]

    def by_pinyin(self, latin: str) -> list[list[str]] | None:
        """A Latin word read as pinyin: the words for each piece ("huaweishouji" -> [[华为], [手机]]),
        fewest pieces first; None when it does not read as words the index holds."""
        if not _LATIN.match(latin):
            return None
        return self._word_break(latin, self._by_pinyin)

    def by_initials(self, latin: str) -> list[str]:
        """A Latin word read as the initials of one word ("lyej" -> 蓝牙耳机)."""
        return sorted(self._by_initials.get(latin, ()))

    def homophones(self, chinese: str) -> list[list[str]] | None:
        """Words that sound like a stretch of Chinese the index lacks ("耳鸡" -> [[耳机]])."""
        sounds = syllables(chinese)
        if len(sounds) != len(chinese) or len(sounds) < 2:
            return None
        return self._word_break("".join(sounds), self._by_pinyin)

    def _word_break(self, letters: str, table: dict[str, set[str]]) -> list[list[str]] | None:
        """Cut the letters into keys of the table, as few as possible (longest words win)."""
        n = len(letters)
        # best[i]: the fewest pieces covering letters[:i], and where the last piece starts.
        best: list[tuple[int, int] | None] = [None] * (n + 1)
        best[0] = (0, 0)
        for end in range(1, n + 1):
            for start in range(max(0, end - self._longest), end):
                before = best[start]
                if before is None or before[0] >= MAX_PIECES or letters[start:end] not in table:
                    continue
                if best[end] is None or before[0] + 1 < best[end][0]:
                    best[end] = (before[0] + 1, start)
        if best[n] is None:
            return None
        pieces: list[list[str]] = []
        end = n
        while end > 0:
            start = best[end][1]
            pieces.append(sorted(table[letters[start:end]]))
            end = start
        return pieces[::-1]
