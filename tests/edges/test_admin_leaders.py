"""Leaders in the admin web: the platform reviews applications (approve; refuse with a reason;
a second reviewer told it was handled), suspends and reinstates leaders, and lists leaders'
points with their coordinates. Merchants' people never reach any of it."""

from __future__ import annotations

from commerce.audit.models import AuditEntry
from commerce.community.models import Leader
from commerce.fulfilment.models import PickupPoint
from commerce.merchants.services import create_merchant
from commerce.staff.states import StaffRole
from tests.builders import new_follower, staff_signed_in
from tests.edges.paying import settle_outbox, sim
from tests.edges.shoppers import auth_headers

APPLICATION = {
    "name": "王芳",
    "phone": "13812345678",
    "address": "深圳市南山区科技园 1 号楼下便利店",
    "latitude": 22.545012,
    "longitude": 113.938034,
    "opening_hours": "每天 9:00-21:00",
}


async def _applied(client, simulator, user: str = "alice", **changes) -> int:
    headers = await auth_headers(client, simulator, user)
    response = await client.post(
        "/api/v1/leader/application", json={**APPLICATION, **changes}, headers=headers
    )
    assert response.status == 200, await response.text()
    return (await response.json())["application"]["id"]


async def test_the_platform_approves_an_application_then_suspends_and_reinstates(client, simulator):
    # given an application, and a platform admin on the leaders page
    leader_id = await _applied(client, simulator)
    csrf = await staff_signed_in(client, "boss")
    listing = await (await client.get("/admin/leaders")).text()
    assert (
        f'data-leader="{leader_id}"' in listing and "138****5678" in listing and "13812345678" not in listing
    )
    # when the admin approves it
    approved = await client.post(
        f"/admin/leaders/{leader_id}/approve", data={"csrf_token": csrf}, allow_redirects=False
    )
    # then the leader is approved, the point open, the action audited
    assert (approved.status, approved.headers["Location"]) == (302, f"/admin/leaders/{leader_id}")
    leader = await Leader.get(id=leader_id)
    assert (str(leader.status), (await PickupPoint.get(id=leader.pickup_point_id)).active) == (
        "approved",
        True,
    )
    page = await (await client.get(f"/admin/leaders/{leader_id}")).text()
    assert "已通过" in page and leader.share_code in page
    # and a second click (another tab still showing the application) is told, not obeyed
    again = await client.post(f"/admin/leaders/{leader_id}/approve", data={"csrf_token": csrf})
    assert again.status == 409 and "团长当前状态不允许此操作" in await again.text()
    # when the admin suspends without a reason, then with one, then reinstates
    bare = await client.post(f"/admin/leaders/{leader_id}/suspend", data={"csrf_token": csrf, "reason": " "})
    assert bare.status == 400 and "请填写原因" in await bare.text()
    await client.post(f"/admin/leaders/{leader_id}/suspend", data={"csrf_token": csrf, "reason": "多次投诉"})
    assert (await PickupPoint.get(id=leader.pickup_point_id)).active is False
    assert "暂停原因：多次投诉" in await (await client.get(f"/admin/leaders/{leader_id}")).text()
    await client.post(f"/admin/leaders/{leader_id}/reinstate", data={"csrf_token": csrf})
    assert (await PickupPoint.get(id=leader.pickup_point_id)).active is True
    actions = await AuditEntry.filter(object_type="leader").order_by("id").values_list("action", "actor")
    assert [a for a, _ in actions] == ["leader.approve", "leader.suspend", "leader.approve"]
    assert all(actor.startswith("staff:") for _, actor in actions)


async def test_a_refusal_needs_a_reason_and_the_applicant_may_apply_again(client, simulator):
    await new_follower(simulator, "alice")  # she follows the official account: she is told there
    leader_id = await _applied(client, simulator)
    csrf = await staff_signed_in(client, "boss")
    missing = await client.post(f"/admin/leaders/{leader_id}/refuse", data={"csrf_token": csrf})
    assert missing.status == 400
    refused = await client.post(
        f"/admin/leaders/{leader_id}/refuse",
        data={"csrf_token": csrf, "reason": "照片看不清"},
        allow_redirects=False,
    )
    assert refused.status == 302
    await settle_outbox()
    _, log = await sim(simulator, "GET", "/mp/messages?user=alice")
    told = [m["body"]["content"] for m in log["messages"] if "团长申请未通过" in m["body"].get("content", "")]
    assert len(told) == 1 and "原因：照片看不清" in told[0]
    alice = await auth_headers(client, simulator, "alice")
    mine = (await (await client.get("/api/v1/leader/application", headers=alice)).json())["application"]
    assert (mine["status"], mine["reason"]) == ("refused", "照片看不清")
    await _applied(client, simulator, photo="/media/leaders/ab/clear.jpg")
    assert f'data-leader="{leader_id}"' in await (await client.get("/admin/leaders")).text()
    assert str((await Leader.get(id=leader_id)).status) == "applied"


async def test_leaders_points_are_listed_with_their_coordinates(client, simulator):
    leader_id = await _applied(client, simulator)
    await _applied(client, simulator, "erin", name="李强", latitude=22.55, longitude=113.95)
    await staff_signed_in(client, "boss")
    page = await (await client.get("/admin/leaders/points")).text()
    assert "22.545012" in page and "113.938034" in page and "22.550000" in page
    assert f'href="/admin/leaders/{leader_id}"' in page


async def test_merchants_people_never_see_leaders(client, simulator):
    leader_id = await _applied(client, simulator)
    merchant = await create_merchant(
        code="orchard", name="果园", contact_name="张", contact_phone="13800000000", actor="system"
    )
    csrf = await staff_signed_in(client, "owner", StaffRole.MERCHANT_OWNER, merchant.id)
    assert "/admin/leaders" not in await (await client.get("/admin/")).text()
    for path in ("/admin/leaders", "/admin/leaders/points", f"/admin/leaders/{leader_id}"):
        assert (await client.get(path)).status == 403, path
    denied = await client.post(f"/admin/leaders/{leader_id}/approve", data={"csrf_token": csrf})
    assert denied.status == 403
    assert str((await Leader.get(id=leader_id)).status) == "applied"
    await staff_signed_in(client, "boss")
    assert "/admin/leaders" in await (await client.get("/admin/")).text()
