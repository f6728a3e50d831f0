"""The bot's free-delivery promise is the platform's shipping default, not a text of its own:
change the setting and the bot says the new amount (or no promise at all)."""

from __future__ import annotations

import pytest

from shop.app import CORE
from tests.edges.mp_pushes import push, text_xml

OPENID = "oFollower000000000000000001"


@pytest.fixture
def settings(settings, request):
    """The shop's settings with the shipping default of the test's parameter."""
    return settings.model_copy(update=getattr(request, "param", {}))


async def _says(client, text: str) -> str:
    _, reply, _ = await push(client, client.app[CORE].settings, text_xml(OPENID, text))
    return reply["Content"]


@pytest.mark.parametrize(
    ("settings", "promise"),
    [
        ({}, "现在满 99 元包邮哦！"),
        ({"shipping_default_free_from_fen": 15900, "shipping_default_fee_fen": 800}, "现在满 159 元包邮哦！"),
        ({"shipping_default_fee_fen": 0}, "现在包邮哦！"),
    ],
    ids=["default", "another amount", "always free"],
    indirect=["settings"],
)
async def test_the_bot_promises_free_delivery_as_the_settings_say(client, promise):
    answer = await _says(client, "优惠")
    assert answer.endswith(promise)
    assert "99" not in answer or "99 元" in promise


@pytest.mark.parametrize("settings", [{"shipping_default_free_from_fen": 0}], indirect=True)
async def test_without_free_delivery_the_bot_promises_none(client):
    answer = await _says(client, "优惠券")
    assert "优惠券功能即将上线" in answer and "包邮" not in answer
