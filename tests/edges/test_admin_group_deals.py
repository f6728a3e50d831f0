"""拼团 in the admin: a merchant's owner creates, edits and ends their merchant's deals only
(another merchant's are not found; a product of another merchant is refused); a role without
products may not open the pages; a deal's groups show their members masked and their orders,
and a waiting order reads 待成团 in the order pages."""

from __future__ import annotations

from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.groupbuy.models import GroupDeal, GroupSeat
from commerce.merchants.services import ensure_merchant
from commerce.staff.states import StaffRole
from commerce.users.models import User
from tests.builders import staff_signed_in
from tests.edges.group_deals import joined, tea_deal
from tests.factories import sku_row


def _form(csrf: str, sku_id: int, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "title": "甲店两人团",
        "prices": f"{sku_id},15.00",
        "group_size": "2",
        "time_limit_minutes": "60",
        "per_shopper_limit": "1",
        "starts_at": "2026-01-01T00:00",
        "ends_at": "2036-01-01T00:00",
        "least": "",
        **changes,
    }


async def _merchant_skus() -> tuple[int, int, int]:
    """(merchant A, A's SKU at ¥20, B's SKU)."""
    a = await ensure_merchant(code="A", name="甲店")
    b = await ensure_merchant(code="B", name="乙店")
    row_a = sku_row("GA", "GA-1", title="甲店杯子", category="家居 > 杯具 > 茶杯", price="20.00")
    row_b = sku_row("GB", "GB-1", title="乙店杯子", category="家居 > 杯具 > 茶杯", price="20.00")
    assert not (await import_rows([row_a], merchant_id=a)).problems
    assert not (await import_rows([row_b], merchant_id=b)).problems
    return a, (await Sku.get(sku_code="GA-1")).id, (await Sku.get(sku_code="GB-1")).id


async def test_an_owner_keeps_its_merchants_deals(client):
    a, sku_a, sku_b = await _merchant_skus()
    csrf = await staff_signed_in(client, "owner-a", StaffRole.MERCHANT_OWNER, a)
    # when the owner creates a deal on their cup
    created = await client.post("/admin/group-deals", data=_form(csrf, sku_a), allow_redirects=False)
    assert created.status == 302, await created.text()
    deal = await GroupDeal.get(title="甲店两人团")
    assert (deal.merchant_id, deal.group_size, deal.time_limit_minutes) == (a, 2, 60)
    # and edits its size, then ends it
    saved = await client.post(f"/admin/group-deals/{deal.id}", data=_form(csrf, sku_a, group_size="3"))
    assert saved.status == 200 and (await GroupDeal.get(id=deal.id)).group_size == 3
    ended = await client.post(f"/admin/group-deals/{deal.id}/end", data={"csrf_token": csrf})
    assert ended.status == 200 and (await GroupDeal.get(id=deal.id)).status.value == "ended"
    assert "甲店两人团" in await (await client.get("/admin/group-deals")).text()
    # then a deal on another merchant's SKU is refused, a bad size explained
    refused = await client.post("/admin/group-deals", data=_form(csrf, sku_b, title="偷"))
    assert refused.status == 400 and "只能为本店商品创建拼团" in await refused.text()
    too_big = await client.post("/admin/group-deals", data=_form(csrf, sku_a, group_size="101"))
    assert too_big.status == 400 and "成团人数为 2-100 人" in await too_big.text()
    assert not await GroupDeal.filter(title="偷").exists()


async def test_another_merchants_deal_is_not_found(client):
    a, _, sku_b = await _merchant_skus()
    platform_csrf = await staff_signed_in(client, "root")
    created = await client.post("/admin/group-deals", data=_form(platform_csrf, sku_b), allow_redirects=False)
    assert created.status == 302
    deal = await GroupDeal.get(title="甲店两人团")
    csrf = await staff_signed_in(client, "owner-a", StaffRole.MERCHANT_OWNER, a)
    assert (await client.get(f"/admin/group-deals/{deal.id}")).status == 404
    posted = await client.post(f"/admin/group-deals/{deal.id}/end", data={"csrf_token": csrf})
    assert posted.status == 404 and (await GroupDeal.get(id=deal.id)).status.value == "active"
    assert "甲店两人团" not in await (await client.get("/admin/group-deals")).text()


async def test_an_agent_may_not_open_the_deals(client):
    await staff_signed_in(client, "agent", StaffRole.AGENT)
    assert (await client.get("/admin/group-deals")).status == 403


async def test_a_deals_groups_show_members_masked_and_their_orders_waiting(client, simulator):
    deal = await tea_deal(3)
    alice = await joined(client, simulator, "alice", deal)
    await User.filter(id=alice["shopper"]["user_id"]).update(nickname="爱丽丝")
    await staff_signed_in(client, "root")
    page = await (await client.get(f"/admin/group-deals/{deal['deal_id']}")).text()
    seat = await GroupSeat.get(order_id=alice["order"]["id"])
    assert f"#{seat.group_id}" in page and "爱* 已支付" in page and "爱丽丝" not in page
    assert f"/admin/orders/{alice['order']['id']}" in page and "拼团中" in page
    order_page = await (await client.get(f"/admin/orders/{alice['order']['id']}")).text()
    assert "待成团" in order_page
    listed = await (await client.get("/admin/orders")).text()
    assert "待成团" in listed
