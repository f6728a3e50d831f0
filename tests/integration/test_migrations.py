"""The migrations produce exactly the models' schema, on SQLite and on MySQL/MariaDB."""

from __future__ import annotations

from pathlib import Path

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate

from commerce.config import Settings
from commerce.db import is_mysql, tortoise_config
from commerce.migrate import migrate_database
from tests.conftest import TEST_DATABASE_URL

Schema = dict[str, dict[str, object]]


async def _sibling_database(name: str, tmp_path: Path) -> str:
    """A fresh, empty database beside the test database."""
    if not is_mysql(TEST_DATABASE_URL):
        return f"sqlite://{tmp_path / name}.sqlite3"
    base, _, _ = TEST_DATABASE_URL.rpartition("/")
    await Tortoise.init(config=tortoise_config(TEST_DATABASE_URL))
    conn = Tortoise.get_connection("default")
    await conn.execute_script(f"DROP DATABASE IF EXISTS `{name}`")
    await conn.execute_script(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    await Tortoise.close_connections()
    return f"{base}/{name}"


async def _schema(url: str) -> Schema:
    await Tortoise.init(config=tortoise_config(url))
    conn = Tortoise.get_connection("default")
    tables = [model._meta.db_table for model in Tortoise.apps["models"].values()]
    schema: Schema = {}
    try:
        for table in tables:
            if is_mysql(url):
                _, columns = await conn.execute_query(
                    "SELECT column_name AS name, column_type AS type, is_nullable AS nullable, "
                    "column_key AS key_kind FROM information_schema.columns "
                    "WHERE table_schema = DATABASE() AND table_name = %s ORDER BY column_name",
                    [table],
                )
                _, indexes = await conn.execute_query(
                    "SELECT GROUP_CONCAT(column_name ORDER BY seq_in_index) AS cols, non_unique "
                    "FROM information_schema.statistics WHERE table_schema = DATABASE() "
                    "AND table_name = %s GROUP BY index_name, non_unique",
                    [table],
                )
                index_set = sorted((row["cols"], row["non_unique"]) for row in indexes)
            else:
                _, columns = await conn.execute_query(f'PRAGMA table_info("{table}")')
                columns = sorted(
                    (
                        {"name": c["name"], "type": c["type"], "nullable": c["notnull"], "pk": c["pk"]}
                        for c in columns
                    ),
                    key=lambda c: c["name"],
                )
                _, index_rows = await conn.execute_query(f'PRAGMA index_list("{table}")')
                index_set = []
                for index in index_rows:
                    _, cols = await conn.execute_query(f'PRAGMA index_info("{index["name"]}")')
                    index_set.append((",".join(str(c["name"]) for c in cols), index["unique"]))
                index_set.sort()
            schema[table] = {"columns": [dict(c) for c in columns], "indexes": index_set}
    finally:
        await Tortoise.close_connections()
    return schema


async def test_migrations_build_the_same_schema_as_the_models(tmp_path, settings: Settings):
    # given two empty databases
    migrated_url = await _sibling_database("shop_migrated", tmp_path)
    generated_url = await _sibling_database("shop_generated", tmp_path)
    # when one is built by the migrations and the other straight from the models
    await migrate_database(settings.model_copy(update={"database_url": migrated_url}))
    await Tortoise.init(config=tortoise_config(generated_url))
    await Tortoise.generate_schemas(safe=False)
    await Tortoise.close_connections()
    # then both have the same tables, columns and indexes
    migrated, generated = await _schema(migrated_url), await _schema(generated_url)
    assert set(migrated) == set(generated)
    for table in generated:
        assert migrated[table] == generated[table], table


async def test_migrating_twice_changes_nothing(tmp_path, settings: Settings):
    url = await _sibling_database("shop_twice", tmp_path)
    migrated = settings.model_copy(update={"database_url": url})
    await migrate_database(migrated)
    before = await _schema(url)
    await migrate_database(migrated)
    assert await _schema(url) == before


async def test_a_database_holding_orders_upgrades_and_its_receivers_are_copied_out(
    tmp_path, settings: Settings
):
    # given a database at 0003 (the first with orders) holding an order
    url = await _sibling_database("shop_backfill", tmp_path)
    await migrate(config=tortoise_config(url), target="models.0003_orders")
    await Tortoise.close_connections()
    await Tortoise.init(config=tortoise_config(url))
    conn = Tortoise.get_connection("default")
    mark = "%s" if is_mysql(url) else "?"
    now = "2026-11-01 08:00:00"
    await conn.execute_query(
        f"INSERT INTO `user` (`id`, `openid`, `nickname`, `avatar_url`, `phone`, `phone_country_code`,"
        f" `session_version`, `created_at`) VALUES (1, 'o1', '', '', '', '', 1, {mark})",
        [now],
    )
    address = '{"name": "张三", "phone": "13800138000", "detail": "科技园"}'
    await conn.execute_query(
        "INSERT INTO `shop_order` (`order_no`, `user_id`, `idempotency_key`, `status`, `items_total`,"
        " `shipping_fee`, `discount_total`, `payable`, `address`, `pay_deadline`, `created_at`, `updated_at`)"
        f" VALUES ('N1', 1, 'k1', 'paid', 100, 0, 0, 100, {mark}, {mark}, {mark}, {mark})",
        [address, now, now, now],
    )
    await conn.execute_query(
        "INSERT INTO `order_line` (`sku_id`, `product_id`, `title`, `specs`, `image`, `unit_price`,"
        " `quantity`, `line_total`, `discount`, `payable`, `order_id`)"
        " VALUES (1, 1, '耳机', '{}', '', 100, 1, 100, 0, 100, 1)",
        [],
    )
    await Tortoise.close_connections()
    # when the rest of the migrations run
    await migrate_database(settings.model_copy(update={"database_url": url}))
    # then the receiver was copied out of the address
    await Tortoise.init(config=tortoise_config(url))
    _, rows = await Tortoise.get_connection("default").execute_query(
        "SELECT `receiver_name`, `receiver_phone`, `receiver_phone_tail` FROM `shop_order`"
    )
    _, lines = await Tortoise.get_connection("default").execute_query("SELECT `title` FROM `order_line`")
    await Tortoise.close_connections()
    # and its line survived the rebuilds of shop_order (SQLite)
    assert [line["title"] for line in lines] == ["耳机"]
    assert [dict(row) for row in rows] == [
        {"receiver_name": "张三", "receiver_phone": "13800138000", "receiver_phone_tail": "8000"}
    ]


async def test_upgrading_keeps_orders_and_skus_and_marks_the_ordered_skus(tmp_path, settings: Settings):
    # given a database at 0009 where an order holds one of a product's two SKUs
    url = await _sibling_database("shop_ordered_skus", tmp_path)
    await migrate(config=tortoise_config(url), target="models.0009_unknown_message_kinds")
    await Tortoise.close_connections()
    await Tortoise.init(config=tortoise_config(url))
    conn = Tortoise.get_connection("default")
    m = "%s" if is_mysql(url) else "?"
    now = "2026-11-01 08:00:00"
    for sql, values in (
        (f"INSERT INTO `merchant` VALUES (1, 'm1', '店', '', '', 'active', {m})", [now]),
        (f"INSERT INTO `category` VALUES (1, '耳机', 0, 1, '耳机', 0, {m}, NULL)", [now]),
        (
            "INSERT INTO `product` (`id`, `spu_code`, `title`, `subtitle`, `description`, `images`,"
            " `video_url`, `status`, `spec_axes`, `min_price`, `max_price`, `total_stock`, `sales`,"
            f" `created_at`, `updated_at`, `category_id`, `merchant_id`) VALUES (1, 'P1', '耳机', '', '',"
            f" '[]', '', 'on_sale', '[]', 100, 100, 2, 0, {m}, {m}, 1, 1)",
            [now, now],
        ),
        *(
            (
                "INSERT INTO `sku` (`id`, `sku_code`, `specs`, `price`, `market_price`, `stock`, `weight_g`,"
                f" `created_at`, `updated_at`, `product_id`) VALUES ({n}, 'S{n}', '{{}}', 100, 0, 1, 0,"
                f" {m}, {m}, 1)",
                [now, now],
            )
            for n in (1, 2)
        ),
        (
            "INSERT INTO `user` (`id`, `openid`, `nickname`, `avatar_url`, `phone`, `phone_country_code`,"
            f" `session_version`, `created_at`) VALUES (1, 'o1', '', '', '', '', 1, {m})",
            [now],
        ),
        (
            "INSERT INTO `shop_order` (`id`, `order_no`, `user_id`, `idempotency_key`, `status`,"
            " `items_total`, `shipping_fee`, `discount_total`, `payable`, `address`, `pay_deadline`,"
            " `created_at`, `updated_at`, `paid_at`, `carrier`, `tracking_no`, `refund_from`,"
            " `receiver_name`, `receiver_phone`, `receiver_phone_tail`)"
            f" VALUES (1, 'N1', 1, 'k1', 'paid', 100, 0, 0, 100, '{{}}', {m}, {m}, {m}, {m}, '', '', '', '',"
            " '', '')",
            [now, now, now, now],
        ),
        (
            "INSERT INTO `order_line` (`sku_id`, `product_id`, `title`, `specs`, `image`, `unit_price`,"
            " `quantity`, `line_total`, `discount`, `payable`, `order_id`)"
            " VALUES (1, 1, '耳机', '{}', '', 100, 1, 100, 0, 100, 1)",
            [],
        ),
    ):
        await conn.execute_query(sql, values)
    await Tortoise.close_connections()
    # when the rest of the migrations run
    await migrate_database(settings.model_copy(update={"database_url": url}))
    # then the held SKU can only be retired from now on; the other may still be deleted
    await Tortoise.init(config=tortoise_config(url))
    conn = Tortoise.get_connection("default")
    _, rows = await conn.execute_query(
        "SELECT `sku_code`, `ever_ordered`, `retired_at` FROM `sku` ORDER BY `id`"
    )
    _, lines = await conn.execute_query("SELECT `order_id`, `sku_id`, `payable` FROM `order_line`")
    await Tortoise.close_connections()
    # and rebuilding the parent tables (SQLite) deleted none of their children
    assert [dict(line) for line in lines] == [{"order_id": 1, "sku_id": 1, "payable": 100}]
    assert [(r["sku_code"], bool(r["ever_ordered"]), r["retired_at"]) for r in rows] == [
        ("S1", True, None),
        ("S2", False, None),
    ]


async def test_upgrading_splits_an_order_of_two_merchants_under_its_one_payment(tmp_path, settings: Settings):
    # given a database at 0010 where one shipped order holds two merchants' goods, with its payment
    url = await _sibling_database("shop_two_merchants", tmp_path)
    await migrate(config=tortoise_config(url), target="models.0010_hardening")
    await Tortoise.close_connections()
    await Tortoise.init(config=tortoise_config(url))
    conn = Tortoise.get_connection("default")
    m = "%s" if is_mysql(url) else "?"
    now = "2026-11-01 08:00:00"
    rows = [
        *(
            (f"INSERT INTO `merchant` VALUES ({n}, 'm{n}', '店{n}', '', '', 'active', {m})", [now])
            for n in (1, 2)
        ),
        (f"INSERT INTO `category` VALUES (1, '食品', 0, 1, '食品', 0, {m}, NULL)", [now]),
        *(
            (
                "INSERT INTO `product` (`id`, `spu_code`, `title`, `subtitle`, `description`, `images`,"
                " `video_url`, `status`, `spec_axes`, `min_price`, `max_price`, `total_stock`, `sales`,"
                f" `created_at`, `updated_at`, `category_id`, `merchant_id`) VALUES ({n}, 'P{n}', '货{n}',"
                f" '', '', '[]', '', 'on_sale', '[]', 100, 100, 9, 0, {m}, {m}, 1, {n})",
                [now, now],
            )
            for n in (1, 2)
        ),
        *(
            (
                "INSERT INTO `sku` (`id`, `sku_code`, `specs`, `price`, `market_price`, `stock`, `weight_g`,"
                f" `ever_ordered`, `created_at`, `updated_at`, `product_id`) VALUES ({n}, 'S{n}', '{{}}',"
                f" {n}00, 0, 9, 0, 1, {m}, {m}, {n})",
                [now, now],
            )
            for n in (1, 2)
        ),
        (
            "INSERT INTO `user` (`id`, `openid`, `nickname`, `avatar_url`, `phone`, `phone_country_code`,"
            f" `session_version`, `created_at`) VALUES (1, 'o1', '', '', '', '', 1, {m})",
            [now],
        ),
        (
            "INSERT INTO `shop_order` (`id`, `order_no`, `user_id`, `idempotency_key`, `status`,"
            " `items_total`, `shipping_fee`, `discount_total`, `payable`, `address`, `pay_deadline`,"
            " `created_at`, `updated_at`, `paid_at`, `carrier`, `tracking_no`, `refund_from`,"
            " `receiver_name`, `receiver_phone`, `receiver_phone_tail`)"
            f" VALUES (1, 'N1', 1, 'k1', 'shipped', 300, 1000, 0, 1300, '{{}}', {m}, {m}, {m}, {m},"
            " '中通快递', 'ZT1000000001', '', '', '', '')",
            [now, now, now, now],
        ),
        *(
            (
                "INSERT INTO `order_line` (`sku_id`, `product_id`, `title`, `specs`, `image`, `unit_price`,"
                f" `quantity`, `line_total`, `discount`, `payable`, `order_id`) VALUES ({n}, {n}, '货{n}',"
                f" '{{}}', '', {n}00, 1, {n}00, 0, {n}00, 1)",
                [],
            )
            for n in (1, 2)
        ),
        (
            "INSERT INTO `order_event` (`order_id`, `type`, `from_status`, `to_status`, `actor`, `params`,"
            f" `created_at`) VALUES (1, 'created', '', 'pending_payment', 'shopper:1', '{{}}', {m})",
            [now],
        ),
        (
            "INSERT INTO `payment` (`order_id`, `provider`, `out_trade_no`, `amount`, `status`, `prepay_id`,"
            " `transaction_id`, `payer_openid`, `paid_at`, `created_at`, `updated_at`)"
            f" VALUES (1, 'wechatpay', 'N1', 1300, 'paid', 'wx1', '4200000001', 'o1', {m}, {m}, {m})",
            [now, now, now],
        ),
    ]
    for sql, values in rows:
        await conn.execute_query(sql, values)
    await Tortoise.close_connections()
    # when the rest of the migrations run
    await migrate_database(settings.model_copy(update={"database_url": url}))
    # then it is one order per merchant under one checkout, which the payment pays
    await Tortoise.init(config=tortoise_config(url))
    conn = Tortoise.get_connection("default")

    async def query(sql: str) -> list[dict]:
        return [dict(row) for row in (await conn.execute_query(sql))[1]]

    orders = await query(
        "SELECT `id`, `merchant_id`, `checkout_id`, `status`, `items_total`, `shipping_fee`, `payable`"
        " FROM `shop_order` ORDER BY `id`"
    )
    checkouts = await query("SELECT `id`, `checkout_no`, `idempotency_key`, `payable` FROM `checkout`")
    payments = await query("SELECT `checkout_id`, `amount` FROM `payment`")
    lines = await query("SELECT `order_id`, `merchant_id`, `sku_id` FROM `order_line` ORDER BY `sku_id`")
    claims = await query(
        "SELECT `order_id`, `ref`, `quantity`, `released_at` FROM `order_claim` ORDER BY `ref`"
    )
    shipping = await query("SELECT `order_id`, `amount` FROM `order_adjustment`")
    events = await query("SELECT `order_id` FROM `order_event` ORDER BY `order_id`")
    fulfilments = await query(
        "SELECT `order_id`, `kind`, `status`, `tracking_no` FROM `fulfilment` ORDER BY `order_id`"
    )
    await Tortoise.close_connections()
    (checkout,) = checkouts
    assert checkout["checkout_no"] == "N1" and checkout["idempotency_key"] == "k1"
    assert [(o["merchant_id"], o["checkout_id"], o["status"]) for o in orders] == [
        (1, checkout["id"], "shipped"),
        (2, checkout["id"], "shipped"),
    ]
    # with the money where it belongs: the shipping stays on the first, the parts add up
    assert [(o["items_total"], o["shipping_fee"], o["payable"]) for o in orders] == [
        (100, 1000, 1100),
        (200, 0, 200),
    ]
    assert sum(o["payable"] for o in orders) == checkout["payable"] == 1300
    assert payments == [{"checkout_id": checkout["id"], "amount": 1300}]
    first, second = (o["id"] for o in orders)
    assert [(line["order_id"], line["merchant_id"]) for line in lines] == [(first, 1), (second, 2)]
    # and what each order took is recorded as held, its shipping as its adjustment, its history kept
    assert claims == [
        {"order_id": first, "ref": "1", "quantity": 1, "released_at": None},
        {"order_id": second, "ref": "2", "quantity": 1, "released_at": None},
    ]
    assert shipping == [{"order_id": first, "amount": 1000}]
    assert [e["order_id"] for e in events] == [first, second]
    # and each part's shipment is its express fulfilment
    assert fulfilments == [
        {"order_id": first, "kind": "express", "status": "shipped", "tracking_no": "ZT1000000001"},
        {"order_id": second, "kind": "express", "status": "shipped", "tracking_no": "ZT1000000001"},
    ]


async def test_upgrading_turns_a_whole_refund_under_review_into_an_after_sales_request(
    tmp_path, settings: Settings
):
    # given a database at 0012 where a shipped order's whole refund waits for staff (refunding)
    url = await _sibling_database("shop_refunding", tmp_path)
    await migrate(config=tortoise_config(url), target="models.0012_fulfilment")
    await Tortoise.close_connections()
    await Tortoise.init(config=tortoise_config(url))
    conn = Tortoise.get_connection("default")
    m = "%s" if is_mysql(url) else "?"
    now = "2026-11-01 08:00:00"
    rows = [
        (f"INSERT INTO `merchant` VALUES (1, 'm1', '店1', '', '', 'active', {m})", [now]),
        (
            "INSERT INTO `user` (`id`, `openid`, `nickname`, `avatar_url`, `phone`, `phone_country_code`,"
            f" `session_version`, `created_at`) VALUES (1, 'o1', '', '', '', '', 1, {m})",
            [now],
        ),
        (
            "INSERT INTO `checkout` (`id`, `checkout_no`, `user_id`, `idempotency_key`, `payable`,"
            f" `pay_deadline`, `created_at`) VALUES (1, 'N1', 1, 'k1', 1300, {m}, {m})",
            [now, now],
        ),
        (
            "INSERT INTO `shop_order` (`id`, `order_no`, `user_id`, `checkout_id`, `merchant_id`,"
            " `idempotency_key`, `status`, `items_total`, `shipping_fee`, `discount_total`, `payable`,"
            " `refunded`, `address`, `pay_deadline`, `created_at`, `updated_at`, `paid_at`, `carrier`,"
            " `tracking_no`, `refund_from`, `receiver_name`, `receiver_phone`, `receiver_phone_tail`)"
            f" VALUES (1, 'N1', 1, 1, 1, 'k1', 'refunding', 300, 1000, 0, 1300, 1300, '{{}}', {m}, {m},"
            f" {m}, {m}, '中通快递', 'ZT1000000001', 'shipped', '', '', '')",
            [now, now, now, now],
        ),
        (
            "INSERT INTO `order_line` (`sku_id`, `product_id`, `merchant_id`, `title`, `specs`, `image`,"
            " `unit_price`, `quantity`, `line_total`, `discount`, `payable`, `order_id`)"
            " VALUES (1, 1, 1, '耳机', '{}', '', 100, 3, 300, 0, 300, 1)",
            [],
        ),
        (
            "INSERT INTO `payment` (`id`, `checkout_id`, `provider`, `out_trade_no`, `amount`, `status`,"
            " `prepay_id`, `transaction_id`, `payer_openid`, `paid_at`, `created_at`, `updated_at`)"
            f" VALUES (1, 1, 'wechatpay', 'N1', 1300, 'paid', 'wx1', '4200000001', 'o1', {m}, {m}, {m})",
            [now, now, now],
        ),
        (
            "INSERT INTO `refund` (`order_id`, `payment_id`, `out_refund_no`, `amount`, `whole_order`,"
            " `reason`, `automatic`, `status`, `refund_id`, `requested_by`, `failure`, `failure_code`,"
            " `reviewed_by`, `refusal`, `created_at`, `updated_at`) VALUES (1, 1, 'RN1', 1300, 1,"
            f" '不想要了', 0, 'awaiting_review', '', 'shopper:1', '', '', '', '', {m}, {m})",
            [now, now],
        ),
    ]
    for sql, values in rows:
        await conn.execute_query(sql, values)
    await Tortoise.close_connections()
    # when the rest of the migrations run
    await migrate_database(settings.model_copy(update={"database_url": url}))
    # then the refund is an after-sales request waiting for review, and the order shipped again
    await Tortoise.init(config=tortoise_config(url))
    conn = Tortoise.get_connection("default")

    async def query(sql: str) -> list[dict]:
        return [dict(row) for row in (await conn.execute_query(sql))[1]]

    requests = await query("SELECT `id`, `order_id`, `kind`, `status`, `amount` FROM `aftersale`")
    orders = await query("SELECT * FROM `shop_order`")
    lines = await query("SELECT `title`, `refund_quantity`, `refund_amount` FROM `order_line`")
    refunds = await query("SELECT `aftersale_id`, `status` FROM `refund`")
    await Tortoise.close_connections()
    assert [(r["order_id"], r["kind"], r["status"], r["amount"]) for r in requests] == [
        (1, "refund_only", "requested", 1300)
    ]
    assert [(o["status"], o["refunded"]) for o in orders] == [("shipped", 1300)]
    assert "refund_from" not in orders[0]  # dropped in place: its lines are still there
    assert [(line["title"], line["refund_quantity"], line["refund_amount"]) for line in lines] == [
        ("耳机", 3, 300)
    ]
    assert refunds == [{"aftersale_id": requests[0]["id"], "status": "awaiting_review"}]
