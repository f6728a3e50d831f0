"""`shop create-admin` makes the first accounts of a new install, of every platform role."""

from __future__ import annotations

from tortoise import Tortoise

from commerce.db import close_db, tortoise_config
from commerce.staff.models import StaffAccount
from tests.e2e.serving import shop, shop_env


async def test_create_admin_makes_accounts_of_each_platform_role(tmp_path, shop_services):
    # given a new install
    env = shop_env(tmp_path / "var", shop_services)
    assert shop(env, "migrate").returncode == 0
    # when the first admin, an agent and a finance account are made from the command line
    made = [
        shop(env, "create-admin", "boss", "--password", "a-long-password-1"),
        shop(
            env,
            "create-admin",
            "agent-1",
            "--role",
            "agent",
            "--display-name",
            "客服小王",
            "--password",
            "a-long-password-1",
        ),
        shop(env, "create-admin", "money-1", "--role", "finance", "--password", "a-long-password-1"),
    ]
    # then each says what it made
    assert [m.returncode for m in made] == [0, 0, 0], [m.stderr for m in made]
    assert "已创建平台管理员 boss" in made[0].stdout and "已创建客服 agent-1" in made[1].stdout
    assert "已创建财务 money-1" in made[2].stdout
    # and a merchant's role is not one the command makes (it belongs to a merchant)
    refused = shop(
        env, "create-admin", "owner-1", "--role", "merchant_owner", "--password", "a-long-password-1"
    )
    assert refused.returncode == 2 and "--role" in refused.stderr
    url = shop_services.get("DATABASE_URL") or f"sqlite://{(tmp_path / 'var' / 'shop.sqlite3').as_posix()}"
    await Tortoise.init(config=tortoise_config(url))
    try:
        rows = (
            await StaffAccount.all()
            .order_by("id")
            .values_list("username", "role", "display_name", "merchant_id")
        )
    finally:
        await close_db()
    assert rows == [
        ("boss", "platform_admin", "", None),
        ("agent-1", "agent", "客服小王", None),
        ("money-1", "finance", "", None),
    ]
