"""A 拼团 group's share page and code through the app: readable without signing in (product,
price, members masked, seats and time left), the mini-program path, and an unlimited
mini-program code from WeChat (the simulator) whose scene names the group; WeChat's refusals
of a bad scene or page."""

from __future__ import annotations

import pytest

from commerce.groupbuy.models import GroupSeat
from commerce.users.models import User
from commerce.wechat.errors import WeChatError
from shop.app import CORE
from tests.edges.group_deals import GROUP_PRICE, joined, tea_deal
from wechat_simulator.keys import STATE


async def test_anyone_reads_a_group_from_its_share_link(client, simulator):
    # given Alice opened and paid a group of three
    deal = await tea_deal(3)
    alice = await joined(client, simulator, "alice", deal)
    await User.filter(id=alice["shopper"]["user_id"]).update(nickname="爱丽丝", avatar_url="https://a/1.png")
    group_id = (await GroupSeat.get(order_id=alice["order"]["id"])).group_id
    # when someone without an account opens the link
    response = await client.get(f"/api/v1/groups/{group_id}")
    # then they see the product at its group price, Alice masked, two seats and the time left
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["status"], body["status_label"], body["size"], body["seats_left"]) == (
        "forming",
        "拼团中",
        3,
        2,
    )
    assert body["members"] == [{"nickname": "爱*", "avatar_url": "https://a/1.png", "paid": True}]
    assert 0 < body["seconds_left"] <= 24 * 3600
    assert body["deal"]["skus"][0]["group_price"] == GROUP_PRICE
    assert body["deal"]["product_title"] == "拼团龙井"
    assert body["share"] == {"path": f"pages/group/index?group_id={group_id}", "scene": f"g={group_id}"}
    # and the deal lists it among the groups one can join
    listed = await (await client.get(f"/api/v1/group-deals/{deal['deal_id']}/groups")).json()
    assert [g["id"] for g in listed["items"]] == [group_id]


async def test_a_group_that_does_not_exist_is_not_found(client):
    response = await client.get("/api/v1/groups/999999")
    assert (response.status, (await response.json())["error"]["code"]) == (404, "group_not_found")


async def test_the_group_code_is_a_png_whose_scene_names_the_group(client, simulator):
    deal = await tea_deal(3)
    alice = await joined(client, simulator, "alice", deal)
    group_id = (await GroupSeat.get(order_id=alice["order"]["id"])).group_id
    unsigned = await client.get(f"/api/v1/groups/{group_id}/code")
    assert unsigned.status == 401
    response = await client.get(f"/api/v1/groups/{group_id}/code", headers=alice["shopper"]["headers"])
    assert response.status == 200
    assert response.content_type == "image/png"
    image = await response.read()
    assert image.startswith(b"\x89PNG\r\n\x1a\n") and f"scene\x00g={group_id}".encode() in image
    # and asking again is answered from Redis: WeChat made the code once
    again = await client.get(f"/api/v1/groups/{group_id}/code", headers=alice["shopper"]["headers"])
    assert (again.status, await again.read()) == (200, image)
    assert [c["scene"] for c in simulator.app[STATE].wxacodes] == [f"g={group_id}"]


@pytest.mark.parametrize(
    ("scene", "page", "errcode"),
    [
        ("g=" + "1" * 31, "pages/group/index", 40169),  # 33 characters
        ("拼团", "pages/group/index", 40169),  # not a visible ASCII character
        ("g=1", "pages/nowhere/index", 41030),  # no such page in the published mini-program
        ("g=1", "/pages/group/index", 41030),  # a leading slash
    ],
)
async def test_wechat_refuses_a_bad_scene_or_page(client, simulator, scene, page, errcode):
    with pytest.raises(WeChatError) as refused:
        await client.app[CORE].wechat.get_unlimited_code(scene=scene, page=page)
    assert refused.value.errcode == errcode
