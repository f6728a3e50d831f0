"""Moving a shop to another database: `shop export` on the old one, `shop migrate` and
`shop import` on the new one (SQLite to SQLite here; SQLite to MariaDB when TEST_DATABASE_URL
names one, as in CI)."""

from __future__ import annotations

import json

from tortoise import Tortoise

from commerce.db import close_db, tortoise_config
from commerce.staff.models import StaffAccount
from tests.builders import ask_refund, paid_order, shipped_order
from tests.e2e.serving import shop, shop_env
from tests.edges.paying import settle_outbox


async def test_a_shop_moves_to_a_new_database_with_every_row_and_id(tmp_path, shop_services):
    # given a shop on SQLite with a catalog, a group deal, a community sale, FAQs and an admin
    old = shop_env(tmp_path / "old")
    for command in (
        ("migrate",),
        ("seed-demo",),
        ("create-admin", "boss", "--password", "a-long-password-1"),
    ):
        done = shop(old, *command)
        assert done.returncode == 0, done.stderr
    # when it is exported, and imported into a new database that `shop migrate` prepared
    exported = shop(old, "export", str(tmp_path / "old.jsonl"))
    new = shop_env(tmp_path / "new", shop_services)
    assert shop(new, "migrate").returncode == 0
    imported = shop(new, "import", str(tmp_path / "old.jsonl"))
    # then both say what they moved, and the new database exports the very same file
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "old.jsonl").stat().st_mode & 0o777 == 0o600  # shoppers' data: ours alone
    assert imported.returncode == 0, imported.stderr
    rows = sum(1 for _ in (tmp_path / "old.jsonl").open()) - 1
    assert f"、{rows} 行" in exported.stdout and f"、{rows} 行" in imported.stdout
    assert rows > 1000
    again = shop(new, "export", str(tmp_path / "new.jsonl"))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "new.jsonl").read_text() == (tmp_path / "old.jsonl").read_text()
    # and a row made after the import takes an id past the imported ones (the sequence moved)
    assert (
        shop(new, "create-admin", "agent-1", "--role", "agent", "--password", "a-long-password-1").returncode
        == 0
    )
    url = new.get("DATABASE_URL") or f"sqlite://{(tmp_path / 'new' / 'shop.sqlite3').as_posix()}"
    await Tortoise.init(config=tortoise_config(url))
    try:
        accounts = await StaffAccount.all().order_by("id").values_list("id", "username")
    finally:
        await close_db()
    assert [name for _, name in accounts] == ["boss", "agent-1"]
    assert accounts[1][0] > accounts[0][0]


async def test_import_refuses_a_database_with_rows_and_a_file_of_another_schema(tmp_path):
    # given an export of a migrated shop with one admin
    env = shop_env(tmp_path / "shop")
    assert shop(env, "migrate").returncode == 0
    assert shop(env, "create-admin", "boss", "--password", "a-long-password-1").returncode == 0
    assert shop(env, "export", str(tmp_path / "dump.jsonl")).returncode == 0
    # when it is imported into a database that already has rows (the same one)
    into_full = shop(env, "import", str(tmp_path / "dump.jsonl"))
    # then nothing is written and the operator is told to use a new database
    assert into_full.returncode == 1 and "目标数据库不是空的" in into_full.stderr
    # and a file whose tables differ from this release's (another version) is refused too
    lines = (tmp_path / "dump.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    header["columns"]["staff_account"] = [*header["columns"]["staff_account"], "removed_later"]
    (tmp_path / "other.jsonl").write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    fresh = shop_env(tmp_path / "fresh")
    assert shop(fresh, "migrate").returncode == 0
    other = shop(fresh, "import", str(tmp_path / "other.jsonl"))
    assert other.returncode == 1 and "同一版本" in other.stderr and "staff_account" in other.stderr
    # and what is not an export is refused by name
    (tmp_path / "notes.txt").write_text("hello\n")
    assert "不是 shop export" in shop(fresh, "import", str(tmp_path / "notes.txt")).stderr


async def test_a_trading_shop_moves_with_its_orders_payments_refunds_and_books(
    client, simulator, settings, tmp_path
):
    # given a shop that has traded: orders paid through WeChat Pay, shipped, one refund asked
    shipped = [await shipped_order(client, simulator, user=name) for name in ("alice", "bob")]
    await ask_refund(client, shipped[0])
    await paid_order(client, simulator, user="carol")
    await settle_outbox()
    # when `shop export` reads it (from another process, as an operator would) and the file is
    # imported into a new SQLite database
    source = {"DATABASE_URL": settings.resolved_database_url}
    exported = shop(shop_env(tmp_path / "source", source), "export", str(tmp_path / "trading.jsonl"))
    assert exported.returncode == 0, exported.stderr
    new = shop_env(tmp_path / "new")
    assert shop(new, "migrate").returncode == 0
    imported = shop(new, "import", str(tmp_path / "trading.jsonl"))
    assert imported.returncode == 0, imported.stderr
    # then the new database holds the same rows, value for value (exported again, same file)
    assert shop(new, "export", str(tmp_path / "again.jsonl")).returncode == 0
    assert (tmp_path / "again.jsonl").read_text() == (tmp_path / "trading.jsonl").read_text()
    tables = {json.loads(line)["table"] for line in (tmp_path / "trading.jsonl").open() if '"table"' in line}
    assert {"shop_order", "order_line", "payment", "aftersale", "fulfilment", "journal_entry"} <= tables
    assert {"ledger_posting", "outbox_event", "outbox_delivery", "user", "address"} <= tables
