"""Search quality on the real demo catalog: what a shopper types, and what must come back."""

import pytest

from bench.search_quality import hit_rates, load_queries, spu_codes
from commerce.catalog.demo import seed_demo_catalog
from commerce.catalog.importer import import_rows
from commerce.catalog.search import CatalogSearch, SearchParams
from tests.factories import seed_small_catalog, sku_row

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


# hit@5 measured on the held-out shopper queries when pinyin, initials, homophones and traditional
# characters came in (148 of 162; 73 before): a change that loses more than a few fails here.
HELD_OUT_HIT_AT_5 = 148 / 162
MARGIN = 0.03


async def test_held_out_shopper_queries_find_what_the_shopper_means(demo_index):
    # given the held-out queries (never tuned on) and the products each one means
    queries = load_queries("heldout")
    assert len(queries) >= 100
    # when each is searched
    rates, misses = hit_rates(demo_index, await spu_codes(), queries)
    # then the intended product is in the first five as often as when measured
    hits, total = rates["overall"]
    assert hits / total >= HELD_OUT_HIT_AT_5 - MARGIN, [(q.text, top) for q, top in misses]


async def test_the_tuning_queries_all_find_what_the_shopper_means(demo_index):
    _, misses = hit_rates(demo_index, await spu_codes(), load_queries("tuning"))
    assert not misses, [(q.text, top) for q, top in misses]


def _all_contain(titles: list[str], word: str) -> bool:
    return bool(titles) and all(word in title for title in titles)


async def test_pinyin_finds_the_chinese_word(demo_index):
    assert _all_contain(_top_titles(demo_index, "erji"), "耳机")
    assert _all_contain(_top_titles(demo_index, "lanyaerji"), "蓝牙耳机")
    # words run together are cut into words: 华为 手机
    top = _top_titles(demo_index, "huaweishouji")
    assert "华为 Mate 60 Pro 5G手机" in top and "华为 nova 12 5G手机" in top
    # pinyin beside Chinese
    assert _all_contain(_top_titles(demo_index, "华为erji"), "华为")


async def test_initials_find_the_word(demo_index):
    assert _all_contain(_top_titles(demo_index, "lyej"), "蓝牙耳机")
    assert _all_contain(_top_titles(demo_index, "dfb"), "电饭煲")


async def test_two_initials_mean_a_kind_of_product(db):
    # given a phone, and a cable whose title has another word with the initials "sj" (升级)
    await seed_small_catalog()
    cable = sku_row("P7", "P7-1", title="绿联 充电线 升级款", category="数码 > 配件 > 充电线", price="19.90")
    assert not (await import_rows([cable])).problems
    index = CatalogSearch(refresh_seconds=0)
    await index.rebuild()
    # when a shopper types two initials, then they mean the kind of product (手机), not any word
    assert _top_titles(index, "sj") == ["Apple iPhone 15 手机"]
    # while longer initials match any word
    assert _top_titles(index, "sjk") == ["绿联 充电线 升级款"]


async def test_a_homophone_typo_finds_the_word_it_sounds_like(demo_index):
    assert _all_contain(_top_titles(demo_index, "耳鸡"), "耳机")
    assert _all_contain(_top_titles(demo_index, "蓝牙耳鸡"), "蓝牙耳机")
    # 电反锅 sounds like 电饭锅, the everyday name of an 电饭煲
    assert _all_contain(_top_titles(demo_index, "电反锅"), "电饭煲")


async def test_traditional_characters_find_simplified_titles(demo_index):
    assert _top_titles(demo_index, "藍牙耳機") == _top_titles(demo_index, "蓝牙耳机")
    assert _top_titles(demo_index, "華為手機") == _top_titles(demo_index, "华为手机")
    # folded, not only heard alike: one character has no pinyin word to sound like
    assert _all_contain(_top_titles(demo_index, "鍋"), "锅")


async def test_everyday_names_find_the_title_wording(demo_index):
    # a drink by its everyday name: 鲜奶 is the 鲜牛奶 of the title
    assert "光明 优倍鲜牛奶" in _top_titles(demo_index, "鲜奶")
    assert _all_contain(_top_titles(demo_index, "卫生纸"), "抽纸")
