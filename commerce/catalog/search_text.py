"""Text handling for Chinese product search: normalising, segmenting, synonyms.

jieba segments Chinese; Latin words and numbers are split at script boundaries so that
"华为mate60" and "华为 Mate 60" meet. CJK character bigrams back up the words, which catches
typos ("蓝牙耳几") and words jieba splits differently in a query than in a title.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata

import jieba

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

# Query word -> words that mean the same to a shopper, with how strongly (1.0 = the same).
SYNONYMS: dict[str, dict[str, float]] = {
    "苹果手机": {"iphone": 1.0},
    "苹果电脑": {"macbook": 1.0},
    "苹果平板": {"ipad": 1.0},
    "苹果耳机": {"airpods": 1.0},
    "苹果手表": {"watch": 0.8},
    "iphone": {"苹果手机": 0.9},
    "apple": {"苹果": 0.9},
    "苹果": {"apple": 0.8},
    "huawei": {"华为": 1.0},
    "华为": {"huawei": 1.0},
    "xiaomi": {"小米": 1.0},
    "红米": {"redmi": 1.0},
    "redmi": {"红米": 1.0},
    "honor": {"荣耀": 1.0},
    "手机": {"5g手机": 0.9, "phone": 0.8},
    "phone": {"手机": 0.9},
    "耳机": {"airpods": 0.8, "耳塞": 0.8, "buds": 0.7},
    "earphone": {"耳机": 1.0},
    "earphones": {"耳机": 1.0},
    "airpods": {"耳机": 0.7},
    "笔记本": {"笔记本电脑": 1.0, "macbook": 0.8},
    "laptop": {"笔记本电脑": 1.0},
    "电脑": {"笔记本电脑": 0.9},
    "平板": {"平板电脑": 1.0, "ipad": 0.8},
    "手表": {"智能手表": 1.0, "watch": 0.8},
    "手环": {"智能手环": 1.0},
    "橙子": {"脐橙": 1.0, "冰糖橙": 1.0, "橙": 0.9, "柑橘": 0.8},
    "橘子": {"砂糖橘": 1.0, "柑橘": 0.9, "蜜橘": 1.0, "桔子": 1.0},
    "桔子": {"橘子": 1.0, "砂糖橘": 1.0, "柑橘": 0.9},
    "牛奶": {"纯牛奶": 1.0, "乳品": 0.8},
    "奶": {"牛奶": 0.9},
    "尿不湿": {"纸尿裤": 1.0},
    "纸尿裤": {"尿不湿": 1.0},
    "唇膏": {"口红": 1.0},
    "口红": {"唇膏": 1.0},
    "吹风机": {"电吹风": 1.0},
    "电吹风": {"吹风机": 1.0},
    "跑鞋": {"跑步鞋": 1.0},
    "球鞋": {"篮球鞋": 1.0, "运动鞋": 0.8},
    "移动电源": {"充电宝": 1.0},
    "充电宝": {"移动电源": 1.0},
    "相机": {"微单相机": 1.0},
    "扫地机": {"扫地机器人": 1.0},
    "坚果": {"每日坚果": 0.9},
    "樱桃": {"车厘子": 1.0},
    "车厘子": {"樱桃": 1.0},
    "被套": {"四件套": 0.9},
    "床单": {"四件套": 0.9},
    "纸巾": {"抽纸": 1.0, "面巾纸": 1.0},
    "单车": {"自行车": 1.0},
    "音响": {"音箱": 1.0},
    "冬衣": {"羽绒服": 0.9},
}

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
    """Full-width to half-width, lower case: "ＩＰｈｏｎｅ" -> "iphone"."""
    return unicodedata.normalize("NFKC", text).lower()


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


def query_words(text: str) -> list[str]:
    """The words of a query, each meant to be found (accurate-mode segmentation)."""
    prepare_segmenter()
    words: list[str] = []
    for run in _WORD_RUN.findall(normalize(text)):
        if not is_cjk(run):
            words.append(run)
        elif len(run) == 1:
            words.append(CHAR_PREFIX + run)  # a one-character query ("梨") means that character
        else:
            # Single characters cut from a longer run are typos or noise: the bigrams judge them.
            words.extend(word for word in jieba.lcut(run, HMM=False) if len(word) > 1)
    return words


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
