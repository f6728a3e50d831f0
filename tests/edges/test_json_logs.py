"""LOG_FORMAT=json: one JSON object per line for log shippers, an access line per request with
its route, status, duration and actor (an id, never a name), and nothing a log must not keep
(phone numbers, codes, tokens) in either format."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from aiohttp.test_utils import TestServer

from commerce.staff.states import StaffRole
from shop.app import create_app
from shop.observability import REQUEST_ID_HEADER, AccessLogger, log_handler
from tests.builders import add_staff, sign_in
from tests.edges.shoppers import log_in

PHONE = "13812345678"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the service's JSON handler writes, as configure_logging installs it."""
    stream = io.StringIO()
    handler = log_handler("json", stream)
    root, access = logging.getLogger(), logging.getLogger("aiohttp.access")
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        access.setLevel(logging.NOTSET)


def _records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_each_request_is_one_json_line_with_route_status_duration_and_actor(
    aiohttp_client, wired_settings, simulator, empty_database, empty_redis, json_lines
):
    # given the app served with the service's access logger
    server = TestServer(create_app(wired_settings, mount_simulator=False))
    await server.start_server(access_log_class=AccessLogger)  # as `shop serve` runs it
    client = await aiohttp_client(server)
    shopper = await log_in(client, simulator, "json-log-shopper")
    json_lines.truncate(0)
    json_lines.seek(0)
    # when a signed-in shopper asks for their account, a code in the query
    response = await client.get(
        "/api/v1/me?code=one-time-code", headers={"Authorization": f"Bearer {shopper['token']}"}
    )
    assert response.status == 200
    # then exactly one access line, in JSON, says what happened and for whom
    access = [r for r in _records(json_lines) if r["logger"] == "aiohttp.access"]
    assert len(access) == 1
    line = access[0]
    assert {"time", "level", "logger", "message", "request_id"} <= set(line)
    assert line["request_id"] == response.headers[REQUEST_ID_HEADER]
    assert line["route"] == "/api/v1/me" and line["status"] == 200 and line["method"] == "GET"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["actor"] == f"shopper:{shopper['user']['id']}"
    assert line["path"] == "/api/v1/me?code=***"
    assert "one-time-code" not in json_lines.getvalue()


async def test_a_staff_member_s_page_is_logged_with_their_id(
    aiohttp_client, wired_settings, empty_database, empty_redis, json_lines
):
    # given a signed-in platform admin
    server = TestServer(create_app(wired_settings, mount_simulator=False))
    await server.start_server(access_log_class=AccessLogger)
    client = await aiohttp_client(server)
    staff = await add_staff("ops-admin", StaffRole.PLATFORM_ADMIN)
    assert (await sign_in(client, "ops-admin")).status == 302
    json_lines.truncate(0)
    json_lines.seek(0)
    # when they open the dashboard
    response = await client.get("/admin/")
    # then its access line names the staff member by id only
    assert response.status == 200
    (line,) = [r for r in _records(json_lines) if r["logger"] == "aiohttp.access"]
    assert line["actor"] == f"staff:{staff.id}" and line["status"] == 200
    assert "ops-admin" not in json_lines.getvalue()


async def test_a_phone_number_and_a_secret_in_a_message_are_redacted(json_lines):
    # when code logs a phone number and a URL with a secret in it
    logging.getLogger("commerce.users").info("绑定手机 %s", PHONE)
    logging.getLogger("commerce.wechat").warning("GET /sns/jscode2session?appid=wx1&secret=s3cr3t failed")
    # then the lines keep neither
    first, second = _records(json_lines)
    assert first["message"] == "绑定手机 138****5678" and first["level"] == "INFO"
    assert first["logger"] == "commerce.users" and first["request_id"] == "-"
    assert second["message"] == "GET /sns/jscode2session?appid=wx1&secret=*** failed"
    assert PHONE not in json_lines.getvalue() and "s3cr3t" not in json_lines.getvalue()


def test_the_text_format_is_redacted_too():
    stream = io.StringIO()
    logger = logging.getLogger("tests.text_format")
    logger.addHandler(log_handler("text", stream))
    logger.propagate = False
    try:
        logger.warning("call %s back", PHONE)
    finally:
        logger.handlers.clear()
        logger.propagate = True
    assert "call 138****5678 back" in stream.getvalue() and PHONE not in stream.getvalue()


def test_the_json_format_is_a_setting(tmp_path):
    from commerce.config import load_settings

    assert load_settings(shop_data_dir=tmp_path).log_format == "text"
    assert load_settings(shop_data_dir=tmp_path, log_format="json").log_format == "json"
    with pytest.raises(ValueError):
        load_settings(shop_data_dir=tmp_path, log_format="xml")
