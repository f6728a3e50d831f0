"""Staff lifecycle: the platform admin makes accounts of every platform role; the platform admin
(and a merchant owner, for its own staff) deactivates, reactivates and resets passwords, and the
account's sessions end at once in every process; a suspended merchant's people are signed out
and kept out; every change shows in the audit log by username and role, with before and after."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient

from commerce.audit.models import AuditEntry
from commerce.errors import CommerceError
from commerce.merchants.services import ensure_merchant
from commerce.staff.models import StaffAccount
from commerce.staff.services import create_first_account, create_platform_admin
from commerce.staff.states import StaffRole
from shop.app import create_app
from tests.builders import PASSWORD, add_staff, csrf_of, sign_in

NEW_PASSWORD = "another-long-password-2"


@dataclass
class Desk:
    """One person's browser on one app instance: their session cookie and CSRF token."""

    client: TestClient
    token: str
    csrf: str

    @classmethod
    async def sign_in(cls, client: TestClient, username: str, password: str = PASSWORD) -> Desk:
        client.session.cookie_jar.clear()
        signed = await sign_in(client, username, password)
        assert signed.status == 302, await signed.text()
        desk = cls(client, signed.cookies["admin_session"].value, "")
        desk.csrf = csrf_of(await (await desk.get("/admin/")).text())
        return desk

    @property
    def _cookie(self) -> dict[str, str]:
        self.client.session.cookie_jar.clear()  # only this person's session goes along
        return {"Cookie": f"admin_session={self.token}"}

    async def get(self, path: str):
        return await self.client.get(path, headers=self._cookie, allow_redirects=False)

    async def post(self, path: str, form=()):
        data = [("csrf_token", self.csrf), *form]
        return await self.client.post(path, data=data, headers=self._cookie, allow_redirects=False)


async def _signed_out(desk: Desk) -> bool:
    """Whether the desk's session has ended: a page sends to the sign-in form, an action is
    refused."""
    page = await desk.get("/admin/")
    action = await desk.post("/admin/logout")
    return (page.status, page.headers.get("Location"), action.status) == (302, "/admin/login", 403)


async def _attempt(client: TestClient, username: str, password: str = PASSWORD):
    client.session.cookie_jar.clear()
    return await sign_in(client, username, password)


async def test_the_platform_admin_creates_accounts_of_every_platform_role(client):
    # given the platform admin on the staff page
    await create_platform_admin(username="boss", password=PASSWORD)
    boss = await Desk.sign_in(client, "boss")
    page = await (await boss.get("/admin/staff")).text()
    assert all(f'value="{role}"' in page for role in ("agent", "finance", "platform_admin"))
    # when they create an agent, a finance account and another admin, with display names
    for username, role, name in (
        ("agent-2", "agent", "客服小李"),
        ("money-2", "finance", "财务老张"),
        ("boss-2", "platform_admin", "运营主管"),
    ):
        made = await boss.post(
            "/admin/staff",
            (("username", username), ("display_name", name), ("password", PASSWORD), ("role", role)),
        )
        assert (made.status, made.headers["Location"]) == (302, "/admin/staff")
    # then the list shows each with its display name, role and merchant
    listed = await (await boss.get("/admin/staff")).text()
    for text in ("agent-2", "客服小李", "客服", "money-2", "财务老张", "财务", "boss-2", "运营主管"):
        assert text in listed, text
    agent = await StaffAccount.get(username="agent-2")
    assert (agent.role, agent.merchant_id, agent.display_name, agent.is_active) == (
        StaffRole.AGENT,
        None,
        "客服小李",
        True,
    )
    assert await AuditEntry.filter(action="staff.create", object_id=str(agent.id)).count() == 1
    # and the agent signs in and opens what an agent may, and nothing else
    helper = await Desk.sign_in(client, "agent-2")
    assert (await helper.get("/admin/support")).status == 200
    assert (await helper.get("/admin/orders")).status == 200
    assert (await helper.get("/admin/staff")).status == 403
    assert (await helper.get("/admin/products")).status == 403
    # and the finance account and the new admin sign in too
    assert (await _attempt(client, "money-2")).status == 302
    assert (await _attempt(client, "boss-2")).status == 302


async def test_the_staff_page_refuses_roles_it_does_not_make(client):
    # given the platform admin and merchant A's owner
    merchant = await ensure_merchant(code="shop-a", name="甲店")
    await create_platform_admin(username="boss", password=PASSWORD)
    await add_staff("a-owner", StaffRole.MERCHANT_OWNER, merchant)
    boss = await Desk.sign_in(client, "boss")
    owner = await Desk.sign_in(client, "a-owner")
    before = await StaffAccount.all().count()
    # when the admin posts a merchant role here, or the owner a platform role or another owner
    attempts = [
        (boss, "merchant_owner"),
        (boss, "merchant_staff"),
        (owner, "agent"),
        (owner, "platform_admin"),
        (owner, "merchant_owner"),
        (boss, "no-such-role"),
    ]
    for desk, role in attempts:
        form = (("username", f"x-{role}"), ("password", PASSWORD), ("role", role))
        refused = await desk.post("/admin/staff", form)
        # then each is refused and no account is made
        assert refused.status == 403 and "不能创建该角色" in await refused.text(), role
    assert await StaffAccount.all().count() == before
    # and an owner's clerk belongs to the owner's merchant, whatever the form says
    made = await owner.post(
        "/admin/staff",
        (
            ("username", "a-clerk-2"),
            ("password", PASSWORD),
            ("role", "merchant_staff"),
            ("merchant_id", "99"),
        ),
    )
    assert made.status == 302
    assert (await StaffAccount.get(username="a-clerk-2")).merchant_id == merchant
    # bad input is said on the page, with a 400
    weak = await boss.post(
        "/admin/staff", (("username", "agent-9"), ("password", "short"), ("role", "agent"))
    )
    assert weak.status == 400 and "密码至少 10 位" in await weak.text()
    long_name = (
        ("username", "agent-9"),
        ("display_name", "名" * 65),
        ("password", PASSWORD),
        ("role", "agent"),
    )
    assert (await boss.post("/admin/staff", long_name)).status == 400
    assert not await StaffAccount.exists(username="agent-9")
    taken = await boss.post(
        "/admin/staff", (("username", "a-owner"), ("password", PASSWORD), ("role", "agent"))
    )
    assert taken.status == 400 and "用户名已被使用" in await taken.text()
    assert await StaffAccount.all().count() == before + 1
    # and the command line makes platform roles only (a merchant's belong to a merchant)
    with pytest.raises(CommerceError) as refused:
        await create_first_account(username="owner-x", password=PASSWORD, role=StaffRole.MERCHANT_OWNER)
    assert refused.value.code == "role_mismatch" and not await StaffAccount.exists(username="owner-x")


async def test_deactivation_ends_a_live_session_at_once_in_another_instance(
    client, aiohttp_client, wired_settings
):
    # given an agent signed in on one instance of the admin, and the platform admin on another
    await create_platform_admin(username="boss", password=PASSWORD)
    await add_staff("agent-1", StaffRole.AGENT)
    agent_id = (await StaffAccount.get(username="agent-1")).id
    other = await aiohttp_client(create_app(wired_settings, mount_simulator=False))
    agent = await Desk.sign_in(client, "agent-1")
    boss = await Desk.sign_in(other, "boss")
    assert (await agent.get("/admin/support")).status == 200
    # when the admin deactivates the agent on their instance
    done = await boss.post(f"/admin/staff/{agent_id}/deactivate")
    assert (done.status, done.headers["Location"]) == (302, "/admin/staff")
    # then the agent's very next request, on the first instance, is refused
    assert await _signed_out(agent)
    assert not (await StaffAccount.get(id=agent_id)).is_active
    # and the agent cannot sign in again
    assert (await _attempt(client, "agent-1")).status == 401
    # when the admin reactivates the agent
    assert (await boss.post(f"/admin/staff/{agent_id}/reactivate")).status == 302
    # then the agent signs in afresh, while the old session stays ended
    again = await Desk.sign_in(client, "agent-1")
    assert (await again.get("/admin/support")).status == 200
    assert await _signed_out(agent)
    # and the admin cannot deactivate themselves
    boss_id = (await StaffAccount.get(username="boss")).id
    refused = await boss.post(f"/admin/staff/{boss_id}/deactivate")
    assert refused.status == 400 and "不能停用自己的账号" in await refused.text()
    assert (await StaffAccount.get(id=boss_id)).is_active


async def test_a_password_reset_ends_the_sessions_and_only_the_new_password_signs_in(client):
    # given an agent signed in
    await create_platform_admin(username="boss", password=PASSWORD)
    await add_staff("agent-1", StaffRole.AGENT)
    agent_id = (await StaffAccount.get(username="agent-1")).id
    agent = await Desk.sign_in(client, "agent-1")
    boss = await Desk.sign_in(client, "boss")
    # when a weak new password is given, nothing changes
    weak = await boss.post(f"/admin/staff/{agent_id}/password", (("password", "short"),))
    assert weak.status == 400 and "密码至少 10 位" in await weak.text()
    assert (await agent.get("/admin/support")).status == 200
    # when the admin resets the agent's password
    done = await boss.post(f"/admin/staff/{agent_id}/password", (("password", NEW_PASSWORD),))
    assert done.status == 302
    # then the agent's session has ended, the old password fails and the new one signs in
    assert await _signed_out(agent)
    assert (await _attempt(client, "agent-1")).status == 401
    assert (await _attempt(client, "agent-1", NEW_PASSWORD)).status == 302
    # and the audit log says so without the password or its hash
    entry = await AuditEntry.get(action="staff.password", object_id=str(agent_id))
    stored = f"{entry.summary}{entry.before}{entry.after}"
    assert NEW_PASSWORD not in stored and "argon2" not in stored and "已重置" in stored


async def test_a_merchant_owner_manages_its_own_staff_and_no_one_else(client):
    # given merchant A with an owner, a second owner and a clerk; merchant B's clerk; an agent
    a = await ensure_merchant(code="shop-a", name="甲店")
    b = await ensure_merchant(code="shop-b", name="乙店")
    for username, role, merchant in (
        ("a-owner", StaffRole.MERCHANT_OWNER, a),
        ("a-owner-2", StaffRole.MERCHANT_OWNER, a),
        ("a-clerk", StaffRole.MERCHANT_STAFF, a),
        ("b-clerk", StaffRole.MERCHANT_STAFF, b),
        ("agent-1", StaffRole.AGENT, None),
    ):
        await add_staff(username, role, merchant)
    ids = dict(await StaffAccount.all().values_list("username", "id"))
    clerk = await Desk.sign_in(client, "a-clerk")
    owner = await Desk.sign_in(client, "a-owner")
    # then the owner's staff page lists A's people only, with actions on the clerk alone
    page = await (await owner.get("/admin/staff")).text()
    assert "a-clerk" in page and "a-owner-2" in page and "b-clerk" not in page and "agent-1" not in page
    assert f"/admin/staff/{ids['a-clerk']}/deactivate" in page
    assert f"/admin/staff/{ids['a-owner-2']}/deactivate" not in page
    # when the owner deactivates A's clerk
    assert (await owner.post(f"/admin/staff/{ids['a-clerk']}/deactivate")).status == 302
    # then the clerk is signed out
    assert await _signed_out(clerk)
    # and the owner reactivates the clerk and resets the clerk's password
    assert (await owner.post(f"/admin/staff/{ids['a-clerk']}/reactivate")).status == 302
    reset = await owner.post(f"/admin/staff/{ids['a-clerk']}/password", (("password", NEW_PASSWORD),))
    assert reset.status == 302
    assert (await _attempt(client, "a-clerk", NEW_PASSWORD)).status == 302
    # when the owner aims at B's clerk, the agent, or a fellow owner
    fingerprint = (
        await StaffAccount.all().order_by("id").values_list("is_active", "session_epoch", "password_hash")
    )
    for target, expected in (("b-clerk", 404), ("agent-1", 404), ("a-owner-2", 403)):
        for action, form in (
            ("deactivate", ()),
            ("reactivate", ()),
            ("password", (("password", NEW_PASSWORD),)),
        ):
            answer = await owner.post(f"/admin/staff/{ids[target]}/{action}", form)
            # then another merchant's and the platform's are not found, a fellow owner refused
            assert answer.status == expected, (target, action)
    assert (
        await StaffAccount.all().order_by("id").values_list("is_active", "session_epoch", "password_hash")
        == fingerprint
    )


async def test_suspending_a_merchant_signs_its_people_out_and_keeps_them_out(client):
    # given merchant A's owner and clerk signed in, and an agent of the platform
    a = await ensure_merchant(code="shop-a", name="甲店")
    await create_platform_admin(username="boss", password=PASSWORD)
    await add_staff("a-owner", StaffRole.MERCHANT_OWNER, a)
    await add_staff("a-clerk", StaffRole.MERCHANT_STAFF, a)
    await add_staff("agent-1", StaffRole.AGENT)
    owner, clerk = await Desk.sign_in(client, "a-owner"), await Desk.sign_in(client, "a-clerk")
    agent = await Desk.sign_in(client, "agent-1")
    boss = await Desk.sign_in(client, "boss")
    assert (await owner.get("/admin/orders")).status == 200
    # when the platform admin suspends A
    suspended = await boss.post(
        f"/admin/merchants/{a}/status", (("status", "suspended"), ("reason", "资质过期"))
    )
    assert suspended.status == 302
    # then A's people are signed out at once, and cannot sign in while A is suspended
    assert await _signed_out(owner) and await _signed_out(clerk)
    for username in ("a-owner", "a-clerk"):
        refused = await _attempt(client, username)
        assert refused.status == 403 and "所属商家已暂停营业" in await refused.text()
    # a wrong password is still just a wrong password (no word about the merchant)
    wrong = await _attempt(client, "a-owner", "not-the-password")
    assert wrong.status == 401 and "暂停" not in await wrong.text()
    # the platform's people are not touched
    assert (await agent.get("/admin/support")).status == 200
    entry = await AuditEntry.get(action="merchant.status")
    assert entry.after["staff_signed_out"] == 2
    # when A trades again, its people sign in again
    assert (await boss.post(f"/admin/merchants/{a}/status", (("status", "active"),))).status == 302
    assert (await _attempt(client, "a-owner")).status == 302


async def test_the_audit_log_shows_who_by_username_and_role_what_and_before_and_after(client):
    # given two admins, one of whom deactivates an agent and the other creates a finance account
    await create_platform_admin(username="boss", password=PASSWORD)
    await create_platform_admin(username="deputy", password=PASSWORD)
    await add_staff("agent-1", StaffRole.AGENT)
    agent_id = (await StaffAccount.get(username="agent-1")).id
    boss, deputy = await Desk.sign_in(client, "boss"), await Desk.sign_in(client, "deputy")
    assert (await boss.post(f"/admin/staff/{agent_id}/deactivate")).status == 302
    made = (
        ("username", "money-2"),
        ("display_name", "财务老张"),
        ("password", PASSWORD),
        ("role", "finance"),
    )
    assert (await deputy.post("/admin/staff", made)).status == 302
    boss_id = (await StaffAccount.get(username="boss")).id
    # when the log is opened
    page = await (await boss.get("/admin/audit")).text()
    # then each change names its actor by username and role, never by the bare id
    assert f"staff:{boss_id}" not in page
    row = page[page.index("staff.deactivate") - 400 : page.index("staff.deactivate") + 600]
    assert "boss" in row and "平台管理员" in row
    # and shows what changed, before and after
    assert "is_active" in row and "<del>true</del> → false" in row
    assert "财务老张" in page and "finance" in page
    # when the log is searched by a username
    found = await (await boss.get("/admin/audit?q=deputy")).text()
    # then that person's changes show (and those naming them), not the others'
    assert "money-2" in found and "staff.deactivate" not in found
    by_boss = await (await boss.get("/admin/audit?q=boss")).text()
    assert "staff.deactivate" in by_boss and "money-2" not in by_boss
