"""China's province-level divisions, as shipping templates name them, and the one way an
address's province (typed or chosen as "广东", "广东省", " 广东省 ") is matched to one."""

from __future__ import annotations

PROVINCES: tuple[str, ...] = (
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省",
    "上海市", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省",
    "湖南省", "广东省", "广西壮族自治区", "海南省", "重庆市", "四川省", "贵州省", "云南省",
    "西藏自治区", "陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区",
    "台湾省", "香港特别行政区", "澳门特别行政区",
)  # fmt: skip
# Longest first, so "广西壮族自治区" loses its whole suffix rather than "区".
_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name.removesuffix(suffix)
    return name


_BY_SHORT = {_short(name): name for name in PROVINCES}


def canonical_province(name: str | None) -> str | None:
    """The province's full name for its full or short name; None when it names none."""
    if not name:
        return None
    return _BY_SHORT.get(_short(name.strip()))
