"""Pickup points in the admin: a merchant's owner keeps its merchant's points (another's are
not found), the platform's people keep the platform's and see every merchant's; phones are
masked in the list; every change needs the session's CSRF token."""

from __future__ import annotations

from commerce.fulfilment.models import PickupPoint
from commerce.fulfilment.services import create_pickup_point
from commerce.merchants.services import ensure_merchant
from commerce.staff.states import StaffRole
from tests.builders import paid_order, staff_signed_in


async def _points() -> tuple[int, int, int, int]:
    """(merchant A, A's point, B's point, the platform's point)."""
    a = await ensure_merchant(code="A", name="甲店")
    b = await ensure_merchant(code="B", name="乙店")
    point_a = await create_pickup_point(
        name="甲店门店", address="甲路 1 号", merchant_id=a, contact_phone="13800138000"
    )
    point_b = await create_pickup_point(name="乙店门店", address="乙路 2 号", merchant_id=b)
    point_p = await create_pickup_point(name="平台驿站", address="中心路 9 号", merchant_id=None)
    return a, point_a.id, point_b.id, point_p.id


def _form(csrf: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "name": "甲店二店",
        "address": "甲路 20 号",
        "opening_hours": "每天 8:00-22:00",
        "contact_phone": "13900139000",
        **changes,
    }


async def test_an_owner_keeps_its_merchants_points(client):
    # given merchant A's owner signed in
    a, _, point_b, point_p = await _points()
    csrf = await staff_signed_in(client, "owner-a", StaffRole.MERCHANT_OWNER, a)
    # then the list shows A's point only, its phone masked
    listed = await (await client.get("/admin/pickups/points")).text()
    assert "甲店门店" in listed and "138****8000" in listed and "13800138000" not in listed
    assert "乙店门店" not in listed and "平台驿站" not in listed
    # when they add a point, and fix a typo in it
    created = await client.post("/admin/pickups/points", data=_form(csrf), allow_redirects=False)
    assert created.status == 302
    new = await PickupPoint.get(name="甲店二店")
    assert (new.merchant_id, new.opening_hours, new.contact_phone) == (a, "每天 8:00-22:00", "13900139000")
    saved = await client.post(
        f"/admin/pickups/points/{new.id}", data=_form(csrf, address="甲路 21 号"), allow_redirects=False
    )
    assert saved.status == 302 and (await PickupPoint.get(id=new.id)).address == "甲路 21 号"
    # when they close it and open it again
    closed = await client.post(
        f"/admin/pickups/points/{new.id}/deactivate", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert closed.status == 302 and not (await PickupPoint.get(id=new.id)).active
    assert "已停用" in await (await client.get("/admin/pickups/points")).text()
    await client.post(f"/admin/pickups/points/{new.id}/reactivate", data={"csrf_token": csrf})
    assert (await PickupPoint.get(id=new.id)).active
    # then B's and the platform's points are not found, to see or to change
    for other in (point_b, point_p):
        assert (await client.get(f"/admin/pickups/points/{other}")).status == 404
        posted = await client.post(f"/admin/pickups/points/{other}", data=_form(csrf, name="改名"))
        assert posted.status == 404
        posted = await client.post(f"/admin/pickups/points/{other}/deactivate", data={"csrf_token": csrf})
        assert posted.status == 404
    assert not await PickupPoint.filter(name="改名").exists()
    assert await PickupPoint.filter(id__in=[point_b, point_p], active=True).count() == 2
    # and a point without a name is refused with the reason, nothing saved
    refused = await client.post("/admin/pickups/points", data=_form(csrf, name=" "))
    assert refused.status == 400 and "请填写自提点名称和地址" in await refused.text()
    assert await PickupPoint.filter(merchant_id=a).count() == 2


async def test_the_platform_keeps_its_points_and_sees_every_merchants(client):
    # given a platform admin signed in
    _, point_a, _, point_p = await _points()
    csrf = await staff_signed_in(client, "root")
    # then every point is listed with its owner
    listed = await (await client.get("/admin/pickups/points")).text()
    assert all(name in listed for name in ("平台驿站", "甲店门店", "乙店门店", "甲店"))
    # when they add a point: it is the platform's
    await client.post("/admin/pickups/points", data=_form(csrf, name="平台二号站"))
    assert (await PickupPoint.get(name="平台二号站")).merchant_id is None
    # when they edit the platform's point: saved
    saved = await client.post(f"/admin/pickups/points/{point_p}", data=_form(csrf, name="平台总站"))
    assert saved.status == 200 and (await PickupPoint.get(id=point_p)).name == "平台总站"
    # then a merchant's point shows read-only, and changing it is refused
    page = await (await client.get(f"/admin/pickups/points/{point_a}")).text()
    assert "由商家自己管理" in page and "disabled" in page
    refused = await client.post(f"/admin/pickups/points/{point_a}", data=_form(csrf, name="改名"))
    assert refused.status == 403
    refused = await client.post(f"/admin/pickups/points/{point_a}/deactivate", data={"csrf_token": csrf})
    assert refused.status == 403
    point = await PickupPoint.get(id=point_a)
    assert (point.name, point.active) == ("甲店门店", True)


async def test_a_change_without_the_csrf_token_is_refused(client):
    a, point_a, _, _ = await _points()
    await staff_signed_in(client, "owner-a", StaffRole.MERCHANT_OWNER, a)
    posted = await client.post(f"/admin/pickups/points/{point_a}", data=_form("forged", name="改名"))
    assert posted.status == 403
    posted = await client.post(f"/admin/pickups/points/{point_a}/deactivate", data={})
    assert posted.status == 403
    point = await PickupPoint.get(id=point_a)
    assert (point.name, point.active) == ("甲店门店", True)


async def test_the_verification_page_leads_those_who_may_to_the_points(client):
    a, _, _, _ = await _points()
    await staff_signed_in(client, "owner-a", StaffRole.MERCHANT_OWNER, a)
    assert "管理自提点" in await (await client.get("/admin/pickups")).text()
    await staff_signed_in(client, "clerk-a", StaffRole.MERCHANT_STAFF, a)
    page = await client.get("/admin/pickups")
    assert page.status == 200 and "管理自提点" not in await page.text()
    assert (await client.get("/admin/pickups/points")).status == 403


async def test_the_merchants_staff_make_a_pickup_order_ready_at_its_point(client, simulator):
    # given a paid order its shopper chose to collect at the platform's point
    point = await create_pickup_point(name="平台驿站", address="中心路 9 号", merchant_id=None)
    order = await paid_order(client, simulator, pickup_point_id=point.id)
    url = f"/admin/orders/{order['id']}"
    csrf = await staff_signed_in(client, "owner1", StaffRole.MERCHANT_OWNER, order["merchant_id"])
    # then its page says where it is collected, and offers no shipping by carrier
    page = await (await client.get(url)).text()
    assert "到店自提：平台驿站" in page and "待备货" in page and f"{url}/ship" not in page
    shipped = await client.post(
        f"{url}/ship", data={"csrf_token": csrf, "carrier": "顺丰速运", "tracking_no": "SF1234567890"}
    )
    assert shipped.status == 409 and "到店自提，不能快递发货" in await shipped.text()
    # when the staff say the goods are at the point
    ready = await client.post(f"{url}/ready-for-pickup", data={"csrf_token": csrf}, allow_redirects=False)
    assert ready.status == 302
    assert "已备货，待买家提货" in await (await client.get(url)).text()
    # then the shopper sees the code to show there
    shown = await (await client.get(f"/api/v1/orders/{order['id']}", headers=order["headers"])).json()
    assert shown["fulfilment"]["status"] == "ready" and shown["fulfilment"]["pickup_code"].isdigit()
    # and a second time is refused, with the reason
    again = await client.post(f"{url}/ready-for-pickup", data={"csrf_token": csrf})
    assert again.status == 409 and "已安排" in await again.text()
