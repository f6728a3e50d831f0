"""The mini-program subscribe-message templates our notices use, as the settings configure them.

A template's keywords belong to WeChat's template library (thing1, phrase2, ...: the number is
the keyword's, fixed by the library), so for each notice the settings give the template id the
operator added in the mini-program's console and the keys of its keywords in the order of our
values. The values are fitted to each keyword's rule (thing at most 20 characters, ...), as
WeChat refuses the whole message (47003) for one value too long.
"""

from __future__ import annotations

from dataclasses import dataclass

from commerce.config import Settings

GROUP_RESULT = "group_result"
PICKUP_READY = "pickup_ready"
REVIEW_RESULT = "review_result"

# The template to add in the console for each notice (its name in WeChat's library) and what
# our values are, in order: the keys setting lists the template's keyword for each of them.
NOTICES: dict[str, tuple[str, tuple[str, ...]]] = {
    GROUP_RESULT: ("拼团结果通知", ("商品名称", "拼团结果", "温馨提示")),
    PICKUP_READY: ("取货提醒", ("商品名称", "提货码", "自提点")),
    REVIEW_RESULT: ("审核结果通知", ("申请项目", "审核结果", "备注")),
}

# In simulator mode the simulator knows these templates (shop.app.simulator_config).
SIMULATOR_TEMPLATE_IDS = {
    GROUP_RESULT: "sim-tmpl-group-result",
    PICKUP_READY: "sim-tmpl-pickup-ready",
    REVIEW_RESULT: "sim-tmpl-review-result",
}

# The longest value of a keyword, by its key's prefix (WeChat's rules for subscribe messages).
_LIMITS = {"thing": 20, "character_string": 32, "phrase": 5, "name": 10, "number": 32, "letter": 32}


@dataclass(frozen=True)
class NoticeTemplate:
    notice: str  # GROUP_RESULT, ...
    title: str  # the template's name in WeChat's library
    template_id: str
    keys: tuple[str, ...]  # its keywords, in the order of our values

    def data(self, values: tuple[str, ...]) -> dict[str, str]:
        """Our values under the template's keys, each fitted to its keyword's rule."""
        return {key: fit(key, value) for key, value in zip(self.keys, values, strict=True)}


def configured(settings: Settings) -> dict[str, NoticeTemplate]:
    """The notices that have a template, by notice. A keys setting that does not name one key
    per value is a configuration error, raised when the core starts."""
    templates = {}
    for notice, (title, values) in NOTICES.items():
        template_id = getattr(settings, f"wechat_subscribe_{notice}")
        if template_id is None:
            template_id = SIMULATOR_TEMPLATE_IDS[notice] if settings.simulator else ""
        if not template_id:
            continue
        keys = tuple(key.strip() for key in getattr(settings, f"wechat_subscribe_{notice}_keys").split(","))
        if len(keys) != len(values) or not all(keys):
            raise ValueError(
                f"WECHAT_SUBSCRIBE_{notice.upper()}_KEYS must name {len(values)} keywords, "
                f"for {'、'.join(values)} in that order (e.g. thing1,phrase2,thing3)"
            )
        templates[notice] = NoticeTemplate(notice, title, template_id, keys)
    return templates


def fit(key: str, value: str) -> str:
    """A value within its keyword's length (a cut one ends with …); never empty."""
    prefix = key.rstrip("0123456789")
    if prefix == "character_string":  # letters, digits and symbols only
        value = "".join(ch for ch in value if ch.isascii())
    limit = _LIMITS.get(prefix)
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…" if prefix == "thing" else value[:limit]
    return value or "-"
