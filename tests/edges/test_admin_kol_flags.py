"""KOL fraud flags and funnels in the admin web, the platform admin's only: the flags (open first),
a flag's evidence with accounts, addresses and devices masked, refunded orders linked and touch
bursts with their minutes; the review (release or void with a note, once, CSRF-checked); the
signals run on demand; the platform's funnels per KOL and tier with their exports, and a KOL's
funnel page with its charts. Merchants' people and finance never reach any of it."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from commerce import clock
from commerce.audit.models import AuditEntry
from commerce.merchants.services import create_merchant
from commerce.referrals.commission_models import KolCommission
from commerce.referrals.models import KolFlag
from commerce.referrals.states import FlagStatus, KolCommissionStatus, TouchChannel
from commerce.staff.states import StaffRole
from tests.builders import Shopper, staff_signed_in
from tests.edges.shoppers import ADDRESS
from tests.kol_commission_builders import (
    books_balanced,
    flagged_kol,
    kol_catalog,
    referred_order,
)
from tests.referral_builders import approved_kol, touched


async def test_the_platform_sees_the_evidence_masked_and_releases_the_flag(client, simulator, settings):
    # given a flagged KOL, and a platform admin
    kol_id, orders, flag_id = await flagged_kol(client, simulator, settings)
    csrf = await staff_signed_in(client, "boss")
    # when the admin opens the flags
    listing = await client.get("/admin/kol-flags")
    # then the open flag is listed with what tripped and what is held
    text = await listing.text()
    assert listing.status == 200
    assert f'data-flag="{flag_id}" data-status="open"' in text and "阿美" in text
    assert "多个推广客户同一收货地址" in text and "同一 IP 短时间内大量点击" in text
    # when the admin opens it
    page = await client.get(f"/admin/kol-flags/{flag_id}")
    html = await page.text()
    assert page.status == 200
    # then the evidence shows, masked: the address to its district and two characters, the
    # accounts by masked name, the network address to three parts, the refunded order linked
    assert "广东省深圳市南山区科技***" in html
    assert ADDRESS["detail"] not in html and "科技园" not in html
    assert "13800138000" not in html
    assert html.count('class="account"') >= 3 and "微信用户" in html
    assert "172.16.5.*" in html and "172.16.5.77" not in html
    minute = clock.to_shanghai(clock.now().replace(second=0, microsecond=0) - timedelta(hours=1))
    assert f"{minute:%Y-%m-%d %H:%M}（北京时间）" in html
    assert f'href="/admin/orders/{orders[0]["id"]}">{orders[0]["order_no"]}</a>' in html
    held = (await KolFlag.get(id=flag_id)).held
    assert held > 0 and f'id="held">¥{held // 100}.{held % 100:02d}' in html
    # when the admin releases it without a note, then with one
    bare = await client.post(f"/admin/kol-flags/{flag_id}/release", data={"csrf_token": csrf, "note": " "})
    assert bare.status == 400 and "请填写处理说明" in await bare.text()
    done = await client.post(
        f"/admin/kol-flags/{flag_id}/release",
        data={"csrf_token": csrf, "note": "核实为同一小区真实客户"},
        allow_redirects=False,
    )
    # then the flag is released, the commissions pending again, the decision audited
    assert (done.status, done.headers["Location"]) == (302, f"/admin/kol-flags/{flag_id}")
    assert (await KolFlag.get(id=flag_id)).status is FlagStatus.RELEASED
    assert set(await KolCommission.filter(kol_id=kol_id).values_list("status", flat=True)) == {
        KolCommissionStatus.PENDING,
        KolCommissionStatus.REVERSED,  # the refunded order's
    }
    [entry] = await AuditEntry.filter(action="kol_flag.release")
    assert entry.actor.startswith("staff:")
    shown = await (await client.get(f"/admin/kol-flags/{flag_id}")).text()
    assert "已解除" in shown and "核实为同一小区真实客户" in shown and 'id="release"' not in shown
    # and a second reviewer (a tab still showing the form) is told, not obeyed
    again = await client.post(f"/admin/kol-flags/{flag_id}/void", data={"csrf_token": csrf, "note": "作废"})
    assert again.status == 409 and "已被其他人处理" in await again.text()
    await books_balanced()


async def test_voiding_from_the_page_and_a_post_without_the_csrf_token(client, simulator, settings):
    kol_id, _, flag_id = await flagged_kol(client, simulator, settings)
    csrf = await staff_signed_in(client, "boss")
    # a post without the page's token is refused, nothing decided
    forged = await client.post(f"/admin/kol-flags/{flag_id}/void", data={"note": "作废"})
    assert forged.status == 403
    assert (await KolFlag.get(id=flag_id)).status is FlagStatus.OPEN
    # with it, the held commissions are voided and the books balance
    done = await client.post(
        f"/admin/kol-flags/{flag_id}/void", data={"csrf_token": csrf, "note": "刷单"}, allow_redirects=False
    )
    assert done.status == 302
    assert (await KolFlag.get(id=flag_id)).status is FlagStatus.VOIDED
    assert set(await KolCommission.filter(kol_id=kol_id).values_list("status", flat=True)) == {
        KolCommissionStatus.VOIDED,
        KolCommissionStatus.REVERSED,  # the refunded order's
    }
    await books_balanced()


async def test_the_signals_run_on_demand(client, simulator, settings):
    # given a KOL who opened their own link three times
    amy = await Shopper.start(client, simulator, "amy")
    kol = await approved_kol(user_id=amy.user_id)
    for _ in range(3):
        await touched(kol, amy.user_id)
    csrf = await staff_signed_in(client, "boss")
    # when the admin runs the check now
    ran = await client.post("/admin/kol-flags/scan", data={"csrf_token": csrf}, allow_redirects=False)
    # then one flag opened, and the list says so
    assert (ran.status, ran.headers["Location"]) == (302, "/admin/kol-flags?scanned=1")
    assert "新触发 1 条" in await (await client.get("/admin/kol-flags?scanned=1")).text()
    assert await KolFlag.filter(kol_id=kol.id, status=FlagStatus.OPEN).count() == 1


@pytest.mark.parametrize("role", [StaffRole.MERCHANT_OWNER, StaffRole.FINANCE, StaffRole.AGENT])
async def test_nobody_but_the_platform_admin_reaches_flags_or_funnels(client, simulator, settings, role):
    _, _, flag_id = await flagged_kol(client, simulator, settings)
    merchant_id = None
    if role is StaffRole.MERCHANT_OWNER:
        merchant = await create_merchant(
            code="shop-one", name="一号店", contact_name="王", contact_phone="13800000000", actor="staff:0"
        )
        merchant_id = merchant.id
    csrf = await staff_signed_in(client, "someone", role, merchant_id)
    for path in (
        "/admin/kol-flags",
        f"/admin/kol-flags/{flag_id}",
        "/admin/kol-funnels",
        "/admin/kol-funnels.csv",
        "/admin/kol-funnels.xlsx",
    ):
        assert (await client.get(path)).status == 403, path
    refused = await client.post(f"/admin/kol-flags/{flag_id}/void", data={"csrf_token": csrf, "note": "作废"})
    assert refused.status == 403
    assert (await client.post("/admin/kol-flags/scan", data={"csrf_token": csrf})).status == 403
    assert (await KolFlag.get(id=flag_id)).status is FlagStatus.OPEN


async def test_the_platform_reads_the_funnels_and_exports_them(client, simulator, settings):
    # given two KOLs, one with a paid order
    await kol_catalog()
    amy, ann, ben = [await Shopper.start(client, simulator, n) for n in ("amy", "ann", "ben")]
    a = await approved_kol(user_id=amy.user_id, name="阿美")
    b = await approved_kol(user_id=ann.user_id, name="安妮")
    await touched(a, ben.user_id)
    await touched(b, None, channel=TouchChannel.QR_SCAN)
    order = await referred_order(ben, {"KT1-1": 2})
    gmv = f"¥{order['payable'] // 100}.{order['payable'] % 100:02d}"
    await staff_signed_in(client, "boss")
    today = clock.to_shanghai(clock.now()).date()
    start = (today - timedelta(days=6)).isoformat()
    # when the admin opens the platform's funnels
    page = await client.get("/admin/kol-funnels", params={"from": start, "to": today.isoformat()})
    html = await page.text()
    # then both KOLs, the one with GMV first, and the tier
    assert page.status == 200
    assert html.index(f'data-kol="{a.id}"') < html.index(f'data-kol="{b.id}"')
    assert gmv in html and 'id="tiers"' in html and "标准" in html
    # and the exports
    exported = await client.get("/admin/kol-funnels.csv", params={"from": start, "to": today.isoformat()})
    assert exported.status == 200 and "text/csv" in exported.headers["Content-Type"]
    assert "阿美" in (await exported.read()).decode("utf-8-sig")
    workbook = await client.get("/admin/kol-funnels.xlsx", params={"from": start, "to": today.isoformat()})
    sheet = load_workbook(io.BytesIO(await workbook.read())).active
    assert [row[1].value for row in sheet.iter_rows(min_row=2)] == ["阿美", "安妮"]
    # and a KOL's page: the totals, two charts, each channel
    kol_page = await (await client.get(f"/admin/kol-funnels/{a.id}")).text()
    assert 'data-figure="orders">1<' in kol_page and f'data-figure="gmv">{gmv}<' in kol_page
    assert kol_page.count("<svg") == 2 and 'aria-label="每日付款金额"' in kol_page
    assert 'data-channel="link"' in kol_page and 'data-channel="mp_code"' in kol_page
    # and a bad range is said, not crashed on
    bad = await client.get("/admin/kol-funnels", params={"from": "2025-01-01", "to": today.isoformat()})
    assert bad.status == 400 and "最多 366 天" in await bad.text()
    assert (await client.get("/admin/kol-funnels/999999")).status == 404
