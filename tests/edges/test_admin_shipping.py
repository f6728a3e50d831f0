"""Shipping fee templates in the admin web: a merchant's owner keeps its own, the platform admin
any merchant's; another merchant's is not found, a clerk is refused, and every save is the
core's save (audited, once per version read)."""

from __future__ import annotations

from commerce.audit.models import AuditEntry
from commerce.merchants.services import ensure_merchant
from commerce.shipping.fees import ShippingQuote, shipping_fee
from commerce.shipping.provinces import PROVINCES
from commerce.staff.models import StaffAccount
from commerce.staff.states import StaffRole
from shop.app import CORE
from tests.builders import form_fields, staff_signed_in

XINJIANG, TIBET = PROVINCES.index("新疆维吾尔自治区"), PROVINCES.index("西藏自治区")


async def _fee(client, merchant_id: int, items_total: int, province: str) -> ShippingQuote:
    settings = client.app[CORE].settings
    return await shipping_fee(
        merchant_id=merchant_id, items_total=items_total, province=province, settings=settings
    )


async def test_an_owner_sets_its_merchants_fees_by_province(client):
    tea = await ensure_merchant(code="tea", name="茶店")
    await staff_signed_in(client, "tea-owner", StaffRole.MERCHANT_OWNER, tea)
    # given the owner opens the shipping page: its own template, the platform's rule until saved
    opened = await client.get("/admin/shipping", allow_redirects=False)
    assert (opened.status, opened.headers["Location"]) == (302, f"/admin/shipping/{tea}")
    page = await (await client.get(f"/admin/shipping/{tea}")).text()
    assert "运费模板" in page and "茶店" in page and "运费 10.00 元，满 99.00 元包邮" in page
    # when it saves ¥8, free from ¥59, Xinjiang ¥20 and never free, no delivery to Tibet
    action = f"/admin/shipping/{tea}"
    typed = {"fee": "8", "free_from": "59", f"fee_{XINJIANG}": "20", f"never_free_{XINJIANG}": "1"}
    saved = await client.post(
        action,
        data=form_fields(page, action, **typed, **{f"undeliverable_{TIBET}": "1"}),
        allow_redirects=False,
    )
    assert (saved.status, saved.headers["Location"]) == (302, action)
    # then checkout's fees follow it, and the page shows what was saved
    assert await _fee(client, tea, 5899, "广东省") == ShippingQuote(fee=800, free_from=5900)
    assert (await _fee(client, tea, 5900, "广东省")).fee == 0
    assert await _fee(client, tea, 50_000, "新疆") == ShippingQuote(fee=2000, free_from=None)
    assert not (await _fee(client, tea, 50_000, "西藏自治区")).deliverable
    shown = await (await client.get(action)).text()
    assert 'name="fee" value="8.00"' in shown and 'name="free_from" value="59.00"' in shown
    assert f'name="fee_{XINJIANG}" value="20.00"' in shown
    assert f'name="undeliverable_{TIBET}" value="1" checked' in shown
    # and the audit log says who changed what
    owner = await StaffAccount.get(username="tea-owner")
    entry = await AuditEntry.get(action="shipping.template.save")
    assert (entry.actor, entry.object_id) == (f"staff:{owner.id}", str(tea))
    assert entry.after["fee"] == 800 and len(entry.after["provinces"]) == 2


async def test_bad_amounts_and_a_stale_form_are_refused_and_change_nothing(client):
    tea = await ensure_merchant(code="tea", name="茶店")
    await staff_signed_in(client, "tea-owner", StaffRole.MERCHANT_OWNER, tea)
    action = f"/admin/shipping/{tea}"
    page = await (await client.get(action)).text()
    for typed, says in (
        ({"fee": "abc"}, "运费须为"),
        ({"fee": ""}, "请填写运费"),
        ({"fee": "1000"}, "运费须为"),
        ({f"free_from_{TIBET}": "-1"}, "运费须为"),
    ):
        refused = await client.post(action, data=form_fields(page, action, **typed))
        assert refused.status == 400 and says in await refused.text(), typed
    # a form without its CSRF token is refused before anything is read
    assert (await client.post(action, data={"fee": "5"})).status == 403
    assert await AuditEntry.filter(action="shipping.template.save").count() == 0
    # a form read before someone else saved is refused, not saved over theirs
    assert (
        await client.post(action, data=form_fields(page, action, fee="6"), allow_redirects=False)
    ).status == 302
    stale = await client.post(action, data=form_fields(page, action, fee="7"))
    assert stale.status == 400 and "刚被他人修改" in await stale.text()
    assert (await _fee(client, tea, 100, "广东省")).fee == 600


async def test_only_its_owner_and_the_platform_reach_a_merchants_template(client):
    tea = await ensure_merchant(code="tea", name="茶店")
    other = await ensure_merchant(code="other", name="别家")
    # another merchant's template is not found for the owner, whatever it posts
    csrf = await staff_signed_in(client, "tea-owner", StaffRole.MERCHANT_OWNER, tea)
    assert (await client.get(f"/admin/shipping/{other}")).status == 404
    posted = await client.post(
        f"/admin/shipping/{other}", data={"csrf_token": csrf, "fee": "0", "version": "0"}
    )
    assert posted.status == 404 and "页面不存在" in await posted.text()
    # a clerk has no right to the fees: refused, and the navigation does not offer them
    csrf = await staff_signed_in(client, "tea-clerk", StaffRole.MERCHANT_STAFF, tea)
    assert "运费模板" not in await (await client.get("/admin/")).text()
    for response in (
        await client.get("/admin/shipping"),
        await client.get(f"/admin/shipping/{tea}"),
        await client.post(f"/admin/shipping/{tea}", data={"csrf_token": csrf, "fee": "0", "version": "0"}),
    ):
        assert response.status == 403 and "没有权限" in await response.text()
    assert await AuditEntry.filter(action="shipping.template.save").count() == 0
    # the platform admin lists every merchant's rule and keeps any merchant's template
    await staff_signed_in(client, "boss")
    listed = await (await client.get("/admin/shipping")).text()
    assert "茶店" in listed and "别家" in listed and "运费 10.00 元，满 99.00 元包邮" in listed
    action = f"/admin/shipping/{other}"
    page = await (await client.get(action)).text()
    saved = await client.post(
        action, data=form_fields(page, action, fee="0", free_from=""), allow_redirects=False
    )
    assert saved.status == 302
    assert "全部包邮" in await (await client.get("/admin/shipping")).text()
    assert (await _fee(client, other, 1, "广东省")).fee == 0
    assert (await client.get("/admin/shipping/999999")).status == 404
