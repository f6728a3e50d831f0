"""KOLs through the mini-program API and the official account: applying, the review told to
the applicant, the KOL's home page (tier, rates, rules in words, today's figures), share links
for a page (checked: only the mini-program's pages, nothing injected), the official-account QR
code made once at WeChat, and the mini-program code PNG from the simulator; and the 403s of
those who never applied or are not approved."""

from __future__ import annotations

import pytest

from commerce.referrals import kols, tiers
from commerce.referrals.models import KolQrCode
from tests.builders import new_follower
from tests.edges.paying import settle_outbox, sim
from tests.edges.shoppers import auth_headers, log_in
from tests.referral_builders import KolRow, touched
from wechat_simulator.keys import STATE

APPLICATION = {"name": "林小美", "phone": "13912345678", "intro": "小红书美妆博主，粉丝 3 万，主要是大学生"}
DEFAULT = tiers.DefaultTier("标准", 500)


async def _applied(client, simulator, user: str = "alice", **changes) -> tuple[dict, dict]:
    """(headers, kol) of a shopper who applied through the API."""
    headers = await auth_headers(client, simulator, user)
    response = await client.post("/api/v1/kol/application", json={**APPLICATION, **changes}, headers=headers)
    assert response.status == 200, await response.text()
    return headers, (await response.json())["kol"]


async def _approved(client, simulator, user: str = "alice") -> tuple[dict, dict]:
    headers, kol = await _applied(client, simulator, user)
    await kols.approve(kol_id=kol["id"], default=DEFAULT, actor="staff:1")
    await settle_outbox()
    return headers, kol


async def _custom_texts(simulator, user: str) -> list[str]:
    _, log = await sim(simulator, "GET", f"/mp/messages?user={user}")
    return [m["body"]["content"] for m in log["messages"] if m["direction"] == "custom"]


async def _calls(simulator, api: str) -> int:
    _, state = await sim(simulator, "GET", "/wx/state")
    return state["calls"].get(api, 0)


async def _error(response) -> tuple[int, str]:
    return response.status, (await response.json())["error"]["code"]


async def test_an_application_approved_gives_the_kol_their_home_page(client, simulator):
    # given alice, a follower of the official account, who applies
    await new_follower(simulator, "alice")
    headers, kol = await _applied(client, simulator)
    assert (kol["status"], kol["phone"], kol["tier"], len(kol["code"])) == ("applied", "13912345678", "", 8)
    # then while it waits her home page says so, and links and codes are refused
    waiting = await (await client.get("/api/v1/kol", headers=headers)).json()
    assert (waiting["kol"]["status"], waiting["share_path"], waiting["tier"]) == ("applied", None, None)
    for path in ("/api/v1/kol/share", "/api/v1/kol/qrcode", "/api/v1/kol/code"):
        assert await _error(await client.get(path, headers=headers)) == (403, "kol_not_approved")
    # when the platform approves her into the default tier
    await kols.approve(kol_id=kol["id"], default=DEFAULT, actor="staff:1")
    await settle_outbox()
    # then she is told on the official account
    assert any("您已成为平台推广员" in text for text in await _custom_texts(simulator, "alice"))
    # and her home page has her tier and rate, her link, the rules in words and empty figures
    board = await (await client.get("/api/v1/kol", headers=headers)).json()
    code = kol["code"]
    assert (board["kol"]["status"], board["kol"]["tier"]) == ("approved", "标准")
    assert (board["tier"]["rate_bps"], board["tier"]["second_level_bps"]) == (500, 0)
    assert (board["share_path"], board["mp_code_scene"], board["qrcode"]) == (
        f"pages/index/index?ref={code}",
        f"k={code}",
        None,
    )
    assert any("7 天内最后一次点击" in rule for rule in board["rules"])
    assert any("30 天内为您的保护期客户" in rule for rule in board["rules"])
    assert board["today"] == dict.fromkeys(board["today"], 0) and board["month"]["orders"] == 0


async def test_the_home_page_counts_todays_touches_and_new_customers(client, simulator):
    # given an approved KOL whose link two shoppers opened today (one of them twice)
    headers, kol = await _approved(client, simulator)
    row = KolRow(kol["id"], 0, kol["code"], 0)
    bob = (await log_in(client, simulator, "bob"))["user"]["id"]
    carol = (await log_in(client, simulator, "carol"))["user"]["id"]
    for user_id in (bob, carol, bob):
        await touched(row, user_id)
    await touched(row, None)  # and an anonymous visitor
    # then today's and this month's figures say 4 touches and 2 new customers
    board = await (await client.get("/api/v1/kol", headers=headers)).json()
    assert (board["today"]["touches"], board["today"]["customers"]) == (4, 2)
    assert (board["month"]["touches"], board["month"]["customers"]) == (4, 2)


async def test_those_who_never_applied_are_refused(client, simulator):
    headers = await auth_headers(client, simulator, "dave")
    for path in ("/api/v1/kol", "/api/v1/kol/share", "/api/v1/kol/qrcode", "/api/v1/kol/code"):
        assert await _error(await client.get(path, headers=headers)) == (403, "kol_not_applied")
    assert (await client.get("/api/v1/kol")).status == 401  # and nobody unsigned


async def test_an_application_is_checked_and_made_once(client, simulator):
    headers = await auth_headers(client, simulator, "erin")
    bad_phone = await client.post(
        "/api/v1/kol/application", json={**APPLICATION, "phone": "12345678901"}, headers=headers
    )
    assert await _error(bad_phone) == (400, "kol_application_invalid")
    too_long = await client.post(
        "/api/v1/kol/application", json={**APPLICATION, "intro": "好" * 201}, headers=headers
    )
    assert await _error(too_long) == (400, "invalid_request")
    blank = await client.post(
        "/api/v1/kol/application", json={**APPLICATION, "intro": "   "}, headers=headers
    )
    assert await _error(blank) == (400, "kol_application_invalid")
    ok = await client.post("/api/v1/kol/application", json=APPLICATION, headers=headers)
    assert ok.status == 200
    again = await client.post("/api/v1/kol/application", json=APPLICATION, headers=headers)
    assert await _error(again) == (409, "kol_already_applied")


async def test_a_refused_applicant_is_told_why_and_may_apply_again(client, simulator):
    await new_follower(simulator, "alice")
    headers, kol = await _applied(client, simulator)
    await kols.refuse(kol_id=kol["id"], reason="渠道介绍太简单", actor="staff:1")
    await settle_outbox()
    assert any("原因：渠道介绍太简单" in text for text in await _custom_texts(simulator, "alice"))
    board = await (await client.get("/api/v1/kol", headers=headers)).json()
    assert (board["kol"]["status"], board["kol"]["reason"]) == ("refused", "渠道介绍太简单")
    _, again = await _applied(client, simulator, intro="抖音穿搭博主，粉丝 10 万")
    assert (again["id"], again["status"], again["reason"], again["code"]) == (
        kol["id"],
        "applied",
        "",
        kol["code"],
    )


async def test_share_links_for_known_pages_only(client, simulator):
    headers, kol = await _approved(client, simulator)
    code = kol["code"]

    async def share(path: str):
        return await client.get("/api/v1/kol/share", params={"path": path}, headers=headers)

    # a product page, with its own query kept and a ref of someone else's replaced by hers
    product = await (await share("/pages/product/detail?id=12&ref=SOMEONE1")).json()
    assert product == {"code": code, "path": f"pages/product/detail?id=12&ref={code}"}
    home = await (await client.get("/api/v1/kol/share", headers=headers)).json()
    assert home["path"] == f"pages/index/index?ref={code}"
    group = await (await share("pages/group/index?group_id=7")).json()
    assert group["path"] == f"pages/group/index?group_id=7&ref={code}"
    # and anything else is refused
    for bad in (
        "pages/admin/index",  # not a page KOLs share
        "https://evil.example/pages/index/index",
        "pages/product/detail?id=1%26ref%3DX",  # an injected ref, encoded
        "pages/product/detail?id=1&id=2",
        "pages/product/detail?id=<script>",
        "pages/product/detail?x",
        "pages/../admin/index",
        "pages/product/detail?id=" + "1" * 120,
    ):
        assert await _error(await share(bad)) == (400, "referral_path_invalid"), bad


async def test_the_official_account_qr_code_is_made_once_and_kept(client, simulator):
    headers, kol = await _approved(client, simulator)
    before = await _calls(simulator, "qrcode_create")
    first = await client.get("/api/v1/kol/qrcode", headers=headers)
    second = await client.get("/api/v1/kol/qrcode", headers=headers)
    assert first.status == second.status == 200
    body = await first.json()
    assert body == await second.json()
    assert body["scene"] == f"kol_{kol['code']}" and "showqrcode?ticket=" in body["image_url"]
    assert await _calls(simulator, "qrcode_create") == before + 1
    assert await KolQrCode.filter(kol_id=kol["id"]).count() == 1
    board = await (await client.get("/api/v1/kol", headers=headers)).json()
    assert board["qrcode"] == body


async def test_the_mini_program_code_is_a_png_whose_scene_carries_the_code(client, simulator):
    headers, kol = await _approved(client, simulator)
    # while WeChat refuses, the KOL is told to try later
    await sim(simulator, "POST", "/wx/faults", {"api": "getwxacodeunlimit", "errcode": -1})
    assert await _error(await client.get("/api/v1/kol/code", headers=headers)) == (
        503,
        "kol_code_unavailable",
    )
    # then the code is a PNG whose scene carries the KOL's code
    response = await client.get("/api/v1/kol/code", headers=headers)
    assert (response.status, response.content_type) == (200, "image/png")
    image = await response.read()
    assert image.startswith(b"\x89PNG\r\n\x1a\n") and f"scene\x00k={kol['code']}".encode() in image
    # and it is kept: asking again does not ask WeChat again
    again = await client.get("/api/v1/kol/code", headers=headers)
    assert await again.read() == image
    assert [c["scene"] for c in simulator.app[STATE].wxacodes] == [f"k={kol['code']}"]


@pytest.mark.parametrize("action", ["suspend", "refuse"])
async def test_a_suspended_or_refused_kol_gets_no_links(client, simulator, action):
    headers, kol = await _applied(client, simulator)
    if action == "suspend":
        await kols.approve(kol_id=kol["id"], default=DEFAULT, actor="staff:1")
        await kols.suspend(kol_id=kol["id"], reason="刷单嫌疑", actor="staff:1")
    else:
        await kols.refuse(kol_id=kol["id"], reason="信息不全", actor="staff:1")
    for path in ("/api/v1/kol/share", "/api/v1/kol/qrcode", "/api/v1/kol/code"):
        assert await _error(await client.get(path, headers=headers)) == (403, "kol_not_approved")
    board = await (await client.get("/api/v1/kol", headers=headers)).json()
    assert board["share_path"] is None and board["kol"]["status"] == (
        "suspended" if action == "suspend" else "refused"
    )


async def test_while_wechat_refuses_the_qr_code_nothing_is_kept_and_the_next_visit_makes_it(
    client, simulator
):
    headers, kol = await _approved(client, simulator)
    await sim(simulator, "POST", "/wx/faults", {"api": "qrcode_create", "errcode": -1})
    refused = await client.get("/api/v1/kol/qrcode", headers=headers)
    assert await _error(refused) == (503, "wechat_refused")
    assert not await KolQrCode.exists(kol_id=kol["id"])
    made = await client.get("/api/v1/kol/qrcode", headers=headers)
    assert made.status == 200 and (await made.json())["scene"] == f"kol_{kol['code']}"
