"""拼团 through the official account: a follower's 「拼团」 lists the groups they can join with
links to their share pages; members hear when their group succeeds or fails."""

from __future__ import annotations

from datetime import timedelta

from commerce import clock
from commerce.groupbuy import services
from commerce.groupbuy.models import GroupSeat
from tests.edges.group_deals import joined, tea_deal
from tests.edges.paying import eventually, sim


async def _say(simulator, user: str, **body) -> dict:
    status, answer = await sim(simulator, "POST", "/mp/send", {"user": user, **body})
    assert status == 200, answer
    return answer


async def _custom_texts(simulator, user: str) -> list[str]:
    _, log = await sim(simulator, "GET", f"/mp/messages?user={user}")
    return [str(m["body"]) for m in log["messages"] if m["direction"] == "custom"]


async def test_a_follower_asking_for_groups_gets_the_open_ones_with_their_links(client, simulator):
    # given no group yet
    nothing = await _say(simulator, "dave", type="text", content="拼团")
    assert "暂时没有正在拼的团" in nothing["reply"]["Content"]
    # given Alice opened a group of three and paid
    deal = await tea_deal(3)
    alice = await joined(client, simulator, "alice", deal)
    group_id = (await GroupSeat.get(order_id=alice["order"]["id"])).group_id
    # when a follower says 拼团
    answer = await _say(simulator, "dave", type="text", content="拼团")
    # then the group is listed with its price, seats left and a link to its share page
    text = answer["reply"]["Content"]
    assert "龙井三人团 ¥19.90 还差2人" in text
    assert f'data-miniprogram-path="pages/group/index?group_id={group_id}"' in text
    # and Alice, following the account, is not offered her own group
    mine = await _say(simulator, "alice", type="text", content="拼团")
    assert "暂时没有正在拼的团" in mine["reply"]["Content"]


async def test_members_are_told_when_their_group_succeeds(client, simulator):
    deal = await tea_deal(2)
    await _say(simulator, "alice", type="event", event="subscribe")
    alice = await joined(client, simulator, "alice", deal)
    group_id = (await GroupSeat.get(order_id=alice["order"]["id"])).group_id
    await joined(client, simulator, "bob", deal, group_id)

    async def told() -> bool:
        return any("已成团" in text for text in await _custom_texts(simulator, "alice"))

    await eventually(told)


async def test_members_are_told_when_their_group_fails_and_is_refunded(client, simulator):
    deal = await tea_deal(3, minutes=30)
    await _say(simulator, "alice", type="event", event="subscribe")
    await joined(client, simulator, "alice", deal)
    with clock.frozen(clock.now() + timedelta(minutes=31)):
        assert await services.expire_groups() == 1

    async def told() -> bool:
        return any("未在时限内成团" in text for text in await _custom_texts(simulator, "alice"))

    await eventually(told)
