"""Text handling for Chinese product search: normalising, segmenting, synonyms.

jieba segments Chinese; Latin words and numbers are split at script boundaries so that
"华为mate60" and "华为 Mate 60" meet. CJK character bigrams back up the words, which catches
typos ("蓝牙耳几") and words jieba splits differently in a query than in a title. Traditional
characters are folded to simplified on both sides ("藍牙耳機" finds "蓝牙耳机").
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from pathlib import Path

import jieba
from opencc import OpenCC

_WORD_RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z]+|[0-9]+(?:\.[0-9]+)?")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CJK_ONLY = re.compile(r"^[\u4e00-\u9fff]+$")
BIGRAM_PREFIX = "#"  # keeps bigrams apart from words in one vocabulary
CHAR_PREFIX = "@"  # single characters, for one-character queries ("梨", "橙")

# Product words jieba does not know or splits badly; added once to its dictionary.
CUSTOM_WORDS = [
    "苹果手机",
    "蓝牙耳机",
    "头戴式耳机",
    "降噪耳机",
    "智能手表",
    "智能手环",
    "笔记本电脑",
    "平板电脑",
    "扫地机器人",
    "空气炸锅",
    "电饭煲",
    "电吹风",
    "吹风机",
    "电动牙刷",
    "充电宝",
    "移动电源",
    "微单相机",
    "脐橙",
    "砂糖橘",
    "冰糖橙",
    "耙耙柑",
    "沃柑",
    "褚橙",
    "红富士",
    "车厘子",
    "榴莲",
    "荔枝",
    "芒果",
    "纸尿裤",
    "尿不湿",
    "奶粉",
    "四件套",
    "洗衣液",
    "抽纸",
    "洗发水",
    "牙膏",
    "面霜",
    "面膜",
    "口红",
    "唇膏",
    "羽绒服",
    "连衣裙",
    "跑步鞋",
    "跑鞋",
    "篮球鞋",
    "运动鞋",
    "双肩包",
    "瑜伽垫",
    "自行车",
    "山地车",
    "公路车",
    "每日坚果",
    "夏威夷果",
    "开心果",
    "碧根果",
    "巴旦木",
    "纯牛奶",
    "酸奶",
    "大米",
    "花生油",
    "调和油",
    "白酒",
    "铁观音",
    "大红袍",
    "龙井",
    "普洱",
    "白茶",
    "红茶",
    "牛腱子",
    "牛腩",
    "牛排",
    "小米",
    "华为",
    "荣耀",
    "一加",
]


# Query word -> words that mean the same to a shopper, with how strongly (1.0 = the same): data,
# kept in synonyms.txt beside this module.
def _load_synonyms() -> dict[str, dict[str, float]]:
    synonyms: dict[str, dict[str, float]] = {}
    for line in (Path(__file__).parent / "synonyms.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            word, terms = line.split("\t")
            synonyms[word] = {
                term: float(strength) for term, strength in (pair.rsplit(":", 1) for pair in terms.split())
            }
    return synonyms


SYNONYMS = _load_synonyms()

_jieba_lock = threading.Lock()
_jieba_ready = False


def prepare_segmenter() -> None:
    """Load jieba's dictionary and our words, once (about a second: do it at start)."""
    global _jieba_ready
    with _jieba_lock:
        if _jieba_ready:
            return
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        for word in CUSTOM_WORDS:
            jieba.add_word(word, freq=20000)
        _jieba_ready = True


_learned: set[str] = set()


def learn_words(title: str) -> None:
    """Teach jieba the Chinese names a title spells out as separate words ("戴森 HD15 吹风机"):
    brand and product names jieba does not know would otherwise be cut into single characters
    in a query."""
    prepare_segmenter()
    for chunk in normalize(title).split():
        if 2 <= len(chunk) <= 6 and _CJK_ONLY.match(chunk) and chunk not in _learned:
            _learned.add(chunk)
            jieba.add_word(chunk, freq=2000)


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, traditional characters to simplified:
    "ＩＰｈｏｎｅ" -> "iphone", "藍牙耳機" -> "蓝牙耳机"."""
    return to_simplified(unicodedata.normalize("NFKC", text).lower())


_to_simplified = OpenCC("t2s")
_unchanged: set[str] = set()  # characters t2s leaves as they are (nearly all, in a simplified catalog)
_traditional: set[str] = set()


def to_simplified(text: str) -> str:
    """Traditional Chinese to simplified (OpenCC's phrase-aware t2s), only when the text has a
    traditional character: the converter is pure Python, and indexing calls this for every field."""
    unseen = set(text) - _unchanged
    if not unseen:
        return text
    for char in unseen - _traditional:
        (_traditional if _to_simplified.convert(char) != char else _unchanged).add(char)
    return _to_simplified.convert(text) if unseen & _traditional else text


def is_cjk(token: str) -> bool:
    return bool(_CJK.match(token))


def index_terms(text: str) -> list[str]:
    """Every term a document is found by: search-mode words, Latin words, numbers, bigrams."""
    prepare_segmenter()
    terms: list[str] = []
    for run in _WORD_RUN.findall(normalize(text)):
        if is_cjk(run):
            terms.extend(word for word in jieba.lcut_for_search(run) if len(word) > 1)
            terms.extend(bigrams(run))
            terms.extend(CHAR_PREFIX + char for char in run)
        else:
            terms.append(run)
    return terms


def query_runs(text: str) -> list[str]:
    """A normalised query cut at script boundaries: Chinese runs, Latin words, numbers."""
    return _WORD_RUN.findall(normalize(text))


def segment_query(run: str) -> list[str]:
    """A Chinese run of a query cut into words (accurate mode), single characters kept."""
    prepare_segmenter()
    return jieba.lcut(run, HMM=False)


def sub_words(word: str) -> list[str]:
    """The shorter words inside a Chinese word, for when the whole is not in the index."""
    return [piece for piece in jieba.lcut_for_search(word) if piece != word and len(piece) > 1]


def bigrams(run: str) -> list[str]:
    return [BIGRAM_PREFIX + run[i : i + 2] for i in range(len(run) - 1)]


def query_bigrams(text: str) -> list[str]:
    grams: list[str] = []
    for run in _WORD_RUN.findall(normalize(text)):
        if is_cjk(run):
            grams.extend(bigrams(run))
    return list(dict.fromkeys(grams))
