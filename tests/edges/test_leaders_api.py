"""Leaders through the mini-program API and the official account: applying, the review told
to the applicant, the dashboard's share link and QR code, shoppers bound by scanning the code
(the simulator's signed push to the bot's webhook) and by the share link, switching, the
leader's customers, and the nearest open points by coordinates."""

from __future__ import annotations

from urllib.parse import unquote

from commerce.community import leaders
from commerce.community.models import LeaderBindingChange
from tests.builders import new_follower, openid_of
from tests.edges.community import LEADER_APPLICATION as APPLICATION
from tests.edges.paying import settle_outbox, sim
from tests.edges.shoppers import auth_headers


async def _leader(client, simulator, user: str, **changes) -> tuple[dict, dict]:
    """(headers, application) of an approved leader."""
    headers = await auth_headers(client, simulator, user)
    applied = await client.post(
        "/api/v1/leader/application", json={**APPLICATION, **changes}, headers=headers
    )
    assert applied.status == 200, await applied.text()
    application = (await applied.json())["application"]
    await leaders.approve(leader_id=application["id"], actor="staff:1")
    return headers, application


async def _custom_texts(simulator, user: str) -> list[str]:
    _, log = await sim(simulator, "GET", f"/mp/messages?user={user}")
    return [m["body"]["content"] for m in log["messages"] if m["direction"] == "custom"]


def _ticket(dashboard: dict) -> str:
    """The QR code's ticket, from the picture's address WeChat serves it at."""
    return unquote(dashboard["qrcode"]["image_url"].rsplit("ticket=", 1)[1])


async def _scan(simulator, user: str, ticket: str) -> dict:
    """The user scans the QR code in WeChat: a follow through it, or SCAN when following."""
    status, pushed = await sim(
        simulator, "POST", "/mp/send", {"user": user, "type": "event", "event": "subscribe", "ticket": ticket}
    )
    assert status == 200 and pushed["status"] == 200, pushed
    return pushed


async def test_an_application_approved_binds_shoppers_through_its_qr_code(client, simulator):
    # given alice, a follower of the official account, who applies to be a leader
    await new_follower(simulator, "alice")
    alice = await auth_headers(client, simulator, "alice")
    applied = await client.post("/api/v1/leader/application", json=APPLICATION, headers=alice)
    body = (await applied.json())["application"]
    assert (applied.status, body["status"], body["point"]["open"]) == (200, "applied", False)
    early = await client.get("/api/v1/leader/dashboard", headers=alice)
    assert (early.status, (await early.json())["error"]["code"]) == (403, "leader_not_approved")
    # when the platform approves her
    await leaders.approve(leader_id=body["id"], actor="staff:1")
    await settle_outbox()
    # then she is told, and her dashboard has her share link and a QR code made once
    assert any("团长申请已通过" in text for text in await _custom_texts(simulator, "alice"))
    board = await (await client.get("/api/v1/leader/dashboard", headers=alice)).json()
    code = board["share_code"]
    assert board["share_path"] == f"pages/index/index?leader={code}"
    assert board["qrcode"]["scene"] == f"leader_{code}" and board["qrcode"]["image_url"]
    assert (board["customers"], board["leader"]["point"]["open"], board["today"]) == (0, True, None)
    again = await (await client.get("/api/v1/leader/dashboard", headers=alice)).json()
    assert again["qrcode"] == board["qrcode"]
    ticket = _ticket(board)
    # when bob, a shopper, follows the account through her code
    bob = await auth_headers(client, simulator, "bob")
    pushed = await _scan(simulator, "bob", ticket)
    # then the bot tells him he is bound, and the mini-program shows his leader
    assert pushed["reply"]["Content"].startswith("您已绑定团长「王芳」")
    mine = await (await client.get("/api/v1/community/my-leader", headers=bob)).json()
    assert (mine["leader"]["name"], mine["leader"]["source"]) == ("王芳", "qr")
    assert mine["leader"]["point"]["address"] == APPLICATION["address"]
    customers = await (await client.get("/api/v1/leader/customers", headers=alice)).json()
    assert customers["total"] == 1 and customers["items"][0]["source"] == "qr"
    assert customers["items"][0]["nickname"] == "微信用户"  # no nickname given; else masked (张**)
    # and alice scanning her own code is told so, and stays unbound
    own = await _scan(simulator, "alice", ticket)
    assert "您自己的团长二维码" in own["reply"]["Content"]
    assert (await (await client.get("/api/v1/community/my-leader", headers=alice)).json())["leader"] is None


async def test_a_follower_who_scans_before_signing_in_is_bound_at_sign_in(client, simulator):
    _, application = await _leader(client, simulator, "alice")
    alice = await auth_headers(client, simulator, "alice")
    board = await (await client.get("/api/v1/leader/dashboard", headers=alice)).json()
    ticket = _ticket(board)
    # given dave, never signed in to the mini-program, who follows through alice's code
    pushed = await _scan(simulator, "dave", ticket)
    assert "登录小程序后将自动绑定" in pushed["reply"]["Content"]
    # when he signs in
    dave = await auth_headers(client, simulator, "dave")
    # then he is bound to alice, by her QR code
    mine = await (await client.get("/api/v1/community/my-leader", headers=dave)).json()
    assert (mine["leader"]["leader_id"], mine["leader"]["source"]) == (application["id"], "qr")


async def test_binding_by_share_link_and_switching(client, simulator):
    # given two leaders, and carol with the first's share link
    _, first = await _leader(client, simulator, "alice")
    _, second = await _leader(client, simulator, "erin", name="李强", latitude=22.55, longitude=113.95)
    carol = await auth_headers(client, simulator, "carol")
    # when carol opens the link, opens it again, then chooses the second's point
    bound = await client.post(
        "/api/v1/community/bind", json={"share_code": first["share_code"]}, headers=carol
    )
    repeat = await client.post(
        "/api/v1/community/bind", json={"share_code": first["share_code"]}, headers=carol
    )
    switched = await client.post(
        "/api/v1/community/bind", json={"pickup_point_id": second["point"]["id"]}, headers=carol
    )
    # then she was bound, unchanged, then switched; the history says how
    assert (bound.status, (await bound.json())["changed"]) == (200, True)
    assert (await repeat.json())["changed"] is False
    assert (await switched.json())["leader"]["leader_id"] == second["id"]
    history = await LeaderBindingChange.all().order_by("id").values_list("leader_id", "source")
    assert [(leader, str(source)) for leader, source in history] == [
        (first["id"], "link"),
        (second["id"], "chosen"),
    ]


async def test_binding_refuses_unknown_suspended_and_own_leaders(client, simulator):
    alice, application = await _leader(client, simulator, "alice")
    carol = await auth_headers(client, simulator, "carol")

    async def bind(headers, body) -> tuple[int, str]:
        response = await client.post("/api/v1/community/bind", json=body, headers=headers)
        return response.status, (await response.json())["error"]["code"]

    assert await bind(alice, {"share_code": application["share_code"]}) == (400, "leader_self_binding")
    assert await bind(carol, {"share_code": "NOSUCH99"}) == (404, "leader_not_found")
    assert await bind(carol, {"share_code": "x", "pickup_point_id": 1}) == (400, "invalid_request")
    await leaders.suspend(leader_id=application["id"], reason="暂停营业", actor="staff:1")
    assert await bind(carol, {"share_code": application["share_code"]}) == (404, "leader_not_found")
    suspended = await client.get("/api/v1/leader/customers", headers=alice)
    assert (suspended.status, (await suspended.json())["error"]["code"]) == (403, "leader_not_approved")
    never = await client.get("/api/v1/leader/dashboard", headers=carol)
    assert (never.status, (await never.json())["error"]["code"]) == (403, "leader_not_applied")
    assert (await (await client.get("/api/v1/leader/application", headers=carol)).json()) == {
        "application": None
    }


async def test_nearest_points_by_coordinates(client, simulator):
    # given leaders ~300 m and ~1.6 km from carol, and a suspended one next door
    _, near = await _leader(client, simulator, "alice", latitude=22.5450, longitude=113.9380)
    _, mid = await _leader(client, simulator, "erin", latitude=22.5550, longitude=113.9450)
    _, closed = await _leader(client, simulator, "frank", latitude=22.5432, longitude=113.9361)
    await leaders.suspend(leader_id=closed["id"], reason="休息", actor="staff:1")
    carol = await auth_headers(client, simulator, "carol")
    # when carol asks from the Science Park
    response = await client.get(
        "/api/v1/community/points/nearest?lat=22.5431&lng=113.9360&limit=5", headers=carol
    )
    # then the open points, nearest first, with their distances in metres
    items = (await response.json())["items"]
    assert [i["leader_id"] for i in items] == [near["id"], mid["id"]]
    assert 250 < items[0]["distance_m"] < items[1]["distance_m"] < 2_000
    bad = await client.get("/api/v1/community/points/nearest?lat=200&lng=113.9", headers=carol)
    assert bad.status == 400


async def test_an_existing_follower_scanning_is_bound_by_the_scan_event(client, simulator):
    _, application = await _leader(client, simulator, "alice")
    alice = await auth_headers(client, simulator, "alice")
    ticket = _ticket(await (await client.get("/api/v1/leader/dashboard", headers=alice)).json())
    # given bob, a shopper following the account already
    bob = await auth_headers(client, simulator, "bob")
    await new_follower(simulator, "bob")
    assert await openid_of(simulator, "bob")
    # when he scans alice's code (WeChat sends SCAN with the bare scene)
    status, pushed = await sim(
        simulator,
        "POST",
        "/mp/send",
        {"user": "bob", "type": "event", "event": "SCAN", "ticket": ticket},
    )
    # then he is bound
    assert status == 200 and pushed["reply"]["Content"].startswith("您已绑定团长")
    mine = await (await client.get("/api/v1/community/my-leader", headers=bob)).json()
    assert mine["leader"]["leader_id"] == application["id"]
