"""Search quality on the real demo catalog: what a shopper types, and what must come back."""

import pytest

from commerce.catalog.demo import seed_demo_catalog
from commerce.catalog.search import CatalogSearch, SearchParams

# query -> words that must be in the titles of the top five (one title per word)
MUST_FIND = [
    # brands and models, Chinese and English
    ("苹果手机", ["iPhone 15", "iPhone 15 Pro"]),
    ("iphone", ["iPhone 15"]),
    ("iPhone15", ["iPhone 15"]),
    ("华为手机", ["Mate 60 Pro", "nova 12"]),
    ("华为mate60", ["Mate 60 Pro"]),
    ("huawei", ["华为"]),
    ("xiaomi", ["小米 14"]),
    ("红米", ["Redmi K70"]),
    ("macbook", ["MacBook Air"]),
    ("苹果笔记本", ["MacBook Air", "MacBook Pro"]),
    ("ipad", ["iPad Air"]),
    ("戴森", ["戴森 HD15"]),
    ("dyson", ["戴森"]),
    ("uniqlo", ["优衣库"]),
    ("lego", ["乐高"]),
    ("三只松鼠", ["三只松鼠 每日坚果"]),
    ("格力空调", ["格力 云佳"]),
    ("海尔冰箱", ["海尔 十字对开门"]),
    # categories and product words
    ("蓝牙耳机", ["AirPods Pro 2", "FreeBuds Pro 3"]),
    ("耳机", ["AirPods"]),
    ("手机", ["5G手机"]),
    ("扫地机器人", ["扫地机器人"]),
    ("空气炸锅", ["空气炸锅"]),
    ("白酒", ["茅台"]),
    ("茶叶", ["龙井"]),
    # synonyms a shopper uses
    ("尿不湿", ["纸尿裤"]),
    ("唇膏", ["口红"]),
    ("移动电源", ["充电宝"]),
    ("橙子", ["脐橙", "冰糖橙"]),
    ("橘子", ["砂糖橘"]),
    ("牛奶", ["纯牛奶"]),
    ("樱桃", ["车厘子"]),
    ("单车", ["自行车"]),
    ("音响", ["蓝牙音箱"]),
    ("跑鞋", ["跑步鞋"]),
    ("笔记本", ["笔记本电脑"]),
    # typos
    ("iphnoe", ["iPhone 15"]),
    ("蓝牙耳几", ["蓝牙耳机"]),
    ("蓝呀耳机", ["蓝牙耳机"]),
    ("macbok", ["MacBook"]),
    ("ＩＰＨＯＮＥ", ["iPhone"]),  # full-width letters
    # one character
    ("橙", ["脐橙"]),
]

MUST_NOT_FIND = ["量子力学", "asdfgh", "飞机大炮", "zzzz"]


@pytest.fixture
async def demo_index(db) -> CatalogSearch:
    await seed_demo_catalog()
    index = CatalogSearch(refresh_seconds=0)
    await index.rebuild()
    return index


def _top_titles(index: CatalogSearch, query: str, limit: int = 5) -> list[str]:
    return [card.title for card in index.search_now(SearchParams(text=query, limit=limit)).items]


async def test_search_quality_table(demo_index):
    misses = []
    for query, words in MUST_FIND:
        top = _top_titles(demo_index, query)
        for word in words:
            if not any(word in title for title in top):
                misses.append(f"{query!r} should find {word!r} in its top 5, got {top}")
    assert not misses, "\n".join(misses)
    assert len(MUST_FIND) >= 30


async def test_nonsense_finds_nothing(demo_index):
    for query in MUST_NOT_FIND:
        assert _top_titles(demo_index, query) == [], query


async def test_apple_the_fruit_and_apple_the_phone_stay_apart(demo_index):
    phones = _top_titles(demo_index, "苹果手机", limit=20)
    assert not any("红富士" in title for title in phones)
    fruit = _top_titles(demo_index, "苹果", limit=5)
    assert any("红富士" in title for title in fruit)
