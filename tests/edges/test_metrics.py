"""/metrics as Prometheus scrapes it: the counters move by exactly the traffic sent (an API
request, an order placed and paid through the simulator, a bot message); only allowed
addresses with the token may scrape; several workers' counts add up in multi-process mode."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from commerce.catalog.models import Sku
from commerce.support.faq import seed_starter_faq
from shop.app import CORE, create_app
from shop.metrics import prepare_multiprocess_dir
from tests.conftest import on_mysql
from tests.edges.mp_pushes import push, text_xml
from tests.edges.paying import pay_order
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import seed_small_catalog

OPENID = "oFollower000000000000000077"


async def scrape(client, **headers) -> dict[tuple[str, frozenset], float]:
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain; version=")  # the exposition format
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_the_counters_move_with_the_traffic_sent(client, simulator):
    # given a shop with goods and answers, and what the counters say before
    await seed_small_catalog()
    await seed_starter_faq()
    sku = await Sku.get(sku_code="P2-W")
    before = await scrape(client)

    # when a shopper logs in, browses once, orders and pays through WeChat Pay's simulator
    headers = await auth_headers(client, simulator, "metrics-shopper")
    assert (await client.get("/api/v1/products")).status == 200
    address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
    placed = await client.post(
        "/api/v1/orders",
        json={"items": [{"sku_id": sku.id, "quantity": 2}], "address_id": address["id"]},
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status == 201
    order = await placed.json()
    await pay_order(client, simulator, headers, order["id"])
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=headers)).status == 200
    # and a follower asks the bot for a product
    status, reply, _ = await push(client, client.app[CORE].settings, text_xml(OPENID, "搜索 蓝牙耳机"))
    assert status == 200 and reply["MsgType"] == "text"
    after = await scrape(client)

    # then each counter moved by exactly what was sent
    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    http = "shop_http_requests_total"
    assert moved(http, method="GET", route="/api/v1/products", status="200") == 1
    assert moved(http, method="POST", route="/api/v1/orders", status="201") == 1
    # the route is the matched resource's template, never the URL with the order's id
    assert moved(http, method="GET", route="/api/v1/orders/{id}", status="200") == 1
    assert not any(dict(labels).get("route") == f"/api/v1/orders/{order['id']}" for _, labels in after)
    assert (
        moved(
            "shop_http_request_duration_seconds_count", method="GET", route="/api/v1/products", status="200"
        )
        == 1
    )
    assert moved("shop_orders_placed_total") == 1
    assert moved("shop_orders_paid_total") == 1
    assert moved("shop_gmv_paid_fen_total") == order["payable"]
    assert moved("shop_payment_notifications_total", outcome="paid") == 1
    assert moved("shop_wechatpay_calls_total", api="/v3/pay/transactions/jsapi", code="ok") == 1
    assert moved("shop_wechat_calls_total", api="/sns/jscode2session", errcode="0") == 1
    assert moved("shop_bot_replies_total", intent="search") == 1
    # facts read from the database at scrape time are there, per subscriber
    assert any(name == "shop_outbox_pending" for name, _ in after)
    if on_mysql():  # the pool: asyncmy's on MySQL; SQLite has one connection and no pool
        assert value(after, "shop_db_pool_max") == 20
        assert 0 <= value(after, "shop_db_pool_in_use") <= 20


@pytest.fixture
def scrape_as(aiohttp_client, wired_settings, empty_database, empty_redis):
    """A client of the app under other metrics settings."""

    async def client_with(**settings):
        return await aiohttp_client(
            create_app(wired_settings.model_copy(update=settings), mount_simulator=False)
        )

    return client_with


async def test_only_allowed_addresses_with_the_token_may_scrape(scrape_as):
    # from an address outside METRICS_ALLOW: refused
    outsider = await scrape_as(metrics_allow="10.0.0.0/8")
    assert (await outsider.get("/metrics")).status == 403
    # with a token set: none or a wrong one is refused, the right one gets the metrics
    guarded = await scrape_as(metrics_token="scrape-token-0123")
    assert (await guarded.get("/metrics")).status == 401
    assert (await guarded.get("/metrics", headers={"Authorization": "Bearer wrong"})).status == 401
    assert (
        await guarded.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123"})
    ).status == 200
    # a request a proxy forwarded, from a proxy we do not trust: its loopback peer is not the client
    default = await scrape_as()
    assert (await default.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})).status == 403
    # behind a trusted proxy the client's own address decides
    proxied = await scrape_as(trusted_proxies="127.0.0.1/32", metrics_allow="10.1.0.0/16")
    assert (await proxied.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})).status == 200
    assert (await proxied.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})).status == 403


WORKER = """
from commerce.metrics import ORDERS_PLACED
ORDERS_PLACED.inc({n})
"""
SCRAPER = """
from prometheus_client import generate_latest
from shop.monitoring import _registry
print(generate_latest(_registry()).decode())
"""


def test_several_workers_counts_add_up_in_multiprocess_mode(tmp_path):
    # given the folder the supervisor prepares before it starts workers
    folder = tmp_path / "prometheus"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    folder.mkdir()
    # when two workers count orders and exit
    for n in (2, 3):
        subprocess.run([sys.executable, "-c", WORKER.format(n=n)], env=env, check=True)
    # then a scrape answered by any worker sees their sum
    text = subprocess.run(
        [sys.executable, "-c", SCRAPER], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert "shop_orders_placed_total 5.0" in text


def test_the_multiprocess_folder_must_be_prepared_before_the_app_is_imported(tmp_path):
    # this process imported prometheus_client with in-memory values: workers forked from it
    # would count in memory only, so the supervisor is told, not left wondering
    with pytest.raises(RuntimeError, match="before importing the app"):
        prepare_multiprocess_dir(tmp_path / "prometheus")
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
