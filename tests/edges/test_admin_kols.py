"""KOLs in the admin web: the platform reviews applications by status (approve into a tier;
refuse with a reason the applicant is told; a second reviewer told it was handled), suspends,
reinstates, moves a KOL to another tier, invites a user, and keeps the tiers and their rates
per category. Phones are masked; merchants' people and agents never reach any of it; nothing
is done without the form's CSRF token."""

from __future__ import annotations

import pytest

from commerce.audit.models import AuditEntry
from commerce.merchants.services import ensure_merchant
from commerce.referrals.models import Kol, KolTier, KolTierRate
from commerce.staff.states import StaffRole
from tests.builders import new_follower, staff_signed_in
from tests.edges.paying import settle_outbox, sim
from tests.edges.shoppers import auth_headers, log_in
from tests.factories import seed_small_catalog

APPLICATION = {"name": "林小美", "phone": "13912345678", "intro": "小红书美妆博主，粉丝 3 万"}


async def _applied(client, simulator, user: str = "alice", **changes) -> int:
    headers = await auth_headers(client, simulator, user)
    response = await client.post("/api/v1/kol/application", json={**APPLICATION, **changes}, headers=headers)
    assert response.status == 200, await response.text()
    return (await response.json())["kol"]["id"]


async def _custom_texts(simulator, user: str) -> list[str]:
    _, log = await sim(simulator, "GET", f"/mp/messages?user={user}")
    return [m["body"]["content"] for m in log["messages"] if m["direction"] == "custom"]


async def _tier(client, csrf: str, name: str, rate: str, second: str = "") -> int:
    made = await client.post(
        "/admin/kol-tiers",
        data={"csrf_token": csrf, "name": name, "rate": rate, "second_level_rate": second},
        allow_redirects=False,
    )
    assert made.status == 302, await made.text()
    return (await KolTier.get(name=name)).id


async def test_the_platform_approves_into_a_tier_then_moves_suspends_and_reinstates(client, simulator):
    # given an application and a platform admin with two tiers
    await new_follower(simulator, "alice")
    kol_id = await _applied(client, simulator)
    csrf = await staff_signed_in(client, "boss")
    gold = await _tier(client, csrf, "金牌", "10", "2")
    silver = await _tier(client, csrf, "银牌", "6.5")
    # then the applications list shows it, phone masked
    listing = await (await client.get("/admin/kols")).text()
    assert f'data-kol="{kol_id}"' in listing and "139****5678" in listing and "13912345678" not in listing
    page = await (await client.get(f"/admin/kols/{kol_id}")).text()
    assert "139****5678" in page and "13912345678" not in page and "待审核" in page
    # when the admin approves it into the gold tier
    approved = await client.post(
        f"/admin/kols/{kol_id}/approve",
        data={"csrf_token": csrf, "tier_id": str(gold)},
        allow_redirects=False,
    )
    assert (approved.status, approved.headers["Location"]) == (302, f"/admin/kols/{kol_id}")
    kol = await Kol.get(id=kol_id)
    assert (str(kol.status), kol.tier_id) == ("approved", gold)
    await settle_outbox()
    assert any("您已成为平台推广员" in text for text in await _custom_texts(simulator, "alice"))
    page = await (await client.get(f"/admin/kols/{kol_id}")).text()
    assert "已通过" in page and f"pages/index/index?ref={kol.code}" in page and "金牌（默认 10.00%" in page
    # and a second click (another tab still showing the application) is told, not obeyed
    again = await client.post(f"/admin/kols/{kol_id}/approve", data={"csrf_token": csrf})
    assert again.status == 409 and "该申请已被其他人处理" in await again.text()
    # when the admin moves her to silver, suspends without a reason, then with one, reinstates
    await client.post(f"/admin/kols/{kol_id}/tier", data={"csrf_token": csrf, "tier_id": str(silver)})
    assert (await Kol.get(id=kol_id)).tier_id == silver
    bare = await client.post(f"/admin/kols/{kol_id}/suspend", data={"csrf_token": csrf, "reason": " "})
    assert bare.status == 400 and "请填写原因" in await bare.text()
    await client.post(f"/admin/kols/{kol_id}/suspend", data={"csrf_token": csrf, "reason": "刷单嫌疑"})
    assert "暂停原因：刷单嫌疑" in await (await client.get(f"/admin/kols/{kol_id}")).text()
    await client.post(f"/admin/kols/{kol_id}/reinstate", data={"csrf_token": csrf})
    # then she is approved in silver, told each time, and the timeline and audit say it all
    kol = await Kol.get(id=kol_id)
    assert (str(kol.status), kol.tier_id, kol.reason) == ("approved", silver, "")
    await settle_outbox()
    texts = await _custom_texts(simulator, "alice")
    assert any("原因：刷单嫌疑" in t for t in texts) and any("资格已恢复" in t for t in texts)
    page = await (await client.get(f"/admin/kols/{kol_id}")).text()
    assert page.count("状态变更") == 3 and "等级变更" in page and "原等级：金牌；新等级：银牌" in page
    actions = await AuditEntry.filter(object_type="kol").order_by("id").values_list("action", "actor")
    assert [a for a, _ in actions] == ["kol.apply", "kol.approve", "kol.tier", "kol.suspend", "kol.reinstate"]
    assert all(actor.startswith("staff:") for _, actor in actions[1:])


async def test_a_refusal_needs_a_reason_and_the_list_filters_by_status(client, simulator):
    first = await _applied(client, simulator, "alice")
    second = await _applied(client, simulator, "bob", name="王大锤")
    csrf = await staff_signed_in(client, "boss")
    missing = await client.post(f"/admin/kols/{first}/refuse", data={"csrf_token": csrf})
    assert missing.status == 400 and "请填写原因" in await missing.text()
    await client.post(f"/admin/kols/{first}/refuse", data={"csrf_token": csrf, "reason": "介绍太简单"})
    # approved without a tier picked: the default tier of the settings, made now at 5%
    await client.post(f"/admin/kols/{second}/approve", data={"csrf_token": csrf, "tier_id": ""})
    default = await KolTier.get(name="标准")
    assert ((await Kol.get(id=second)).tier_id, default.rate_bps) == (default.id, 500)
    waiting = await (await client.get("/admin/kols")).text()
    assert 'data-empty="kols"' in waiting
    refused = await (await client.get("/admin/kols?status=refused")).text()
    assert f'data-kol="{first}"' in refused and f'data-kol="{second}"' not in refused
    everyone = await (await client.get("/admin/kols?status=all")).text()
    assert f'data-kol="{first}"' in everyone and f'data-kol="{second}"' in everyone
    assert "拒绝原因：介绍太简单" in await (await client.get(f"/admin/kols/{first}")).text()


async def test_the_platform_invites_a_user(client, simulator):
    carol = (await log_in(client, simulator, "carol"))["user"]["id"]
    csrf = await staff_signed_in(client, "boss")
    form = {"csrf_token": csrf, "user_id": str(carol), "name": "卡罗", "phone": "13712345678", "intro": "B站"}
    invited = await client.post("/admin/kols/invite", data=form, allow_redirects=False)
    kol = await Kol.get(user_id=carol)
    assert (invited.status, invited.headers["Location"], str(kol.status)) == (
        302,
        f"/admin/kols/{kol.id}",
        "approved",
    )
    again = await client.post("/admin/kols/invite", data=form)
    assert again.status == 409 and "请在其申请中审核" in await again.text()
    nobody = await client.post("/admin/kols/invite", data={**form, "user_id": "999999"})
    assert nobody.status == 404
    bad = await client.post("/admin/kols/invite", data={**form, "user_id": "abc"})
    assert bad.status == 400 and "请填写用户编号" in await bad.text()


async def test_tiers_and_their_rates_per_category(client, simulator):
    await seed_small_catalog()
    csrf = await staff_signed_in(client, "boss")
    gold = await _tier(client, csrf, "金牌", "10")
    # when the tier is renamed and its rates set, and a category given 3.5%
    saved = await client.post(
        f"/admin/kol-tiers/{gold}",
        data={"csrf_token": csrf, "name": "金牌达人", "rate": "12", "second_level_rate": "1.5"},
        allow_redirects=False,
    )
    assert saved.status == 302
    page = await (await client.get("/admin/kol-tiers")).text()
    category = page.split('name="category_id"><option value="', 1)[1].split('"', 1)[0]
    await client.post(
        f"/admin/kol-tiers/{gold}/category-rate",
        data={"csrf_token": csrf, "category_id": category, "rate": "3.5"},
    )
    tier = await KolTier.get(id=gold)
    assert (tier.name, tier.rate_bps, tier.second_level_bps) == ("金牌达人", 1200, 150)
    assert await KolTierRate.filter(tier_id=gold).values_list("category_id", "rate_bps") == [
        (int(category), 350)
    ]
    page = await (await client.get("/admin/kol-tiers")).text()
    assert "12.00%" in page and "1.50%" in page and "3.50%" in page
    # and cleared with a blank rate; bad input is refused and said
    await client.post(
        f"/admin/kol-tiers/{gold}/category-rate",
        data={"csrf_token": csrf, "category_id": category, "rate": ""},
    )
    assert not await KolTierRate.exists(tier_id=gold)
    for data, message in (
        ({"name": "金牌达人", "rate": "ten"}, "佣金比例请填写百分数"),
        ({"name": "金牌达人", "rate": "100.01"}, "佣金比例须在 0%–100% 之间"),
    ):
        refused = await client.post("/admin/kol-tiers", data={"csrf_token": csrf, **data})
        assert refused.status == 400 and message in await refused.text()
    duplicate = await client.post(
        "/admin/kol-tiers", data={"csrf_token": csrf, "name": "金牌达人", "rate": "1"}
    )
    assert duplicate.status == 409 and "已有同名的推广等级" in await duplicate.text()
    gone = await client.post("/admin/kol-tiers/999999", data={"csrf_token": csrf, "name": "x", "rate": "1"})
    assert gone.status == 404


@pytest.mark.parametrize(
    "role", [StaffRole.MERCHANT_OWNER, StaffRole.MERCHANT_STAFF, StaffRole.AGENT, StaffRole.FINANCE]
)
async def test_no_one_but_the_platform_admin_reaches_kols(client, simulator, role):
    kol_id = await _applied(client, simulator)
    merchant_id = None
    if role in (StaffRole.MERCHANT_OWNER, StaffRole.MERCHANT_STAFF):
        merchant_id = await ensure_merchant(code="shop-a", name="甲店")
    csrf = await staff_signed_in(client, f"user-{role.value}", role, merchant_id)
    for path in ("/admin/kols", f"/admin/kols/{kol_id}", "/admin/kol-tiers"):
        response = await client.get(path)
        assert response.status == 403 and "没有权限" in await response.text(), path
    approve = await client.post(f"/admin/kols/{kol_id}/approve", data={"csrf_token": csrf})
    create = await client.post("/admin/kol-tiers", data={"csrf_token": csrf, "name": "金牌", "rate": "10"})
    assert (approve.status, create.status) == (403, 403)
    assert str((await Kol.get(id=kol_id)).status) == "applied" and not await KolTier.exists()
    assert "/admin/kols" not in await (await client.get("/admin/")).text()


async def test_nothing_is_done_without_the_csrf_token(client, simulator):
    kol_id = await _applied(client, simulator)
    await staff_signed_in(client, "boss")
    assert "/admin/kols" in await (await client.get("/admin/")).text()  # the navigation has it
    for path, data in (
        (f"/admin/kols/{kol_id}/approve", {}),
        (f"/admin/kols/{kol_id}/refuse", {"reason": "x"}),
        ("/admin/kol-tiers", {"name": "金牌", "rate": "10"}),
    ):
        forged = await client.post(path, data=data)
        assert forged.status == 403, path
        bad = await client.post(path, data={**data, "csrf_token": "forged"})
        assert bad.status == 403, path
    assert str((await Kol.get(id=kol_id)).status) == "applied" and not await KolTier.exists()


async def test_what_an_applicant_wrote_is_escaped(client, simulator):
    kol_id = await _applied(client, simulator, name="<b>坏</b>", intro="<script>alert(1)</script>")
    await staff_signed_in(client, "boss")
    for path in ("/admin/kols", f"/admin/kols/{kol_id}"):
        text = await (await client.get(path)).text()
        assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
        assert "<b>坏</b>" not in text
