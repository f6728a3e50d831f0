"""The live inbox: what a follower writes through WeChat shows on the agent's open page without
a reload (Server-Sent Events fed by Redis pub/sub, from whichever process took the message),
and a stream that reconnects loses nothing."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from admin_web import support_live
from commerce.config import Settings
from commerce.staff.states import StaffRole
from commerce.support import live
from commerce.support.models import Conversation
from shop.app import CORE
from tests.builders import csrf_of, follower_says, openid_of, staff_signed_in
from tests.conftest import TEST_REDIS_URL

STREAM_HEADERS = {"Accept": "text/event-stream"}


class EventStream:
    """What a browser's EventSource reads from a stream: events (name, id, JSON data)."""

    def __init__(self, response) -> None:
        self.response = response
        self.comments: list[str] = []

    @classmethod
    async def open(cls, client, path: str, **headers: str) -> EventStream:
        response = await client.get(path, headers={**STREAM_HEADERS, **headers})
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        return cls(response)

    async def next(self, name: str, *, within: float = 5.0) -> dict:
        """The next event called `name` (others are skipped)."""
        async with asyncio.timeout(within):
            while True:
                event = await self._read_event()
                assert event is not None, "the stream ended"
                if event["event"] == name:
                    return event

    async def ended(self, *, within: float = 5.0) -> bool:
        async with asyncio.timeout(within):
            while await self._read_event() is not None:
                pass
        return True

    async def _read_event(self) -> dict | None:
        fields: dict = {}
        while True:
            line = (await self.response.content.readline()).decode()
            if not line:
                return None
            line = line.rstrip("\n")
            if not line:
                if "event" in fields:
                    fields["data"] = json.loads(fields.get("data", "null"))
                    return fields
                continue
            if line.startswith(":"):
                self.comments.append(line)
                continue
            key, _, value = line.partition(": ")
            fields[key] = value

    def close(self) -> None:
        self.response.close()


async def _handed_to_a_person(simulator, user: str = "alice") -> Conversation:
    await follower_says(simulator, user, "人工")
    return await Conversation.get(openid=(await openid_of(simulator, user)))


def _since(page: str) -> str:
    return re.search(r'data-since="([0-9.]+)"', page).group(1)


async def test_a_followers_message_appears_on_the_open_conversation_page(client, simulator):
    # given an agent looking at alice's conversation
    conversation = await _handed_to_a_person(simulator)
    await staff_signed_in(client, "agent-1", StaffRole.AGENT)
    page = await (await client.get(f"/admin/support/{conversation.id}")).text()
    assert 'src="/admin/static/inbox.js"' in page and "<script>" not in page  # no inline script
    stream = await EventStream.open(client, f"/admin/support/{conversation.id}/stream?since={_since(page)}")
    try:
        # when alice writes, with markup in her message
        await follower_says(simulator, "alice", "<script>alert(1)</script>我的快递呢")
        # then the page hears of it at once, as data the script puts in as text
        event = await stream.next("message")
        assert event["data"]["content"] == "<script>alert(1)</script>我的快递呢"
        assert event["data"]["direction"] == "in" and event["data"]["sender"] == "粉丝"
        assert event["id"].split(".")[0] == str(event["data"]["id"])
    finally:
        stream.close()
    # and a reload shows it escaped
    page = await (await client.get(f"/admin/support/{conversation.id}")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;我的快递呢" in page and "<script>alert" not in page
    inbox = await (await client.get("/admin/support")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in inbox and "<script>alert" not in inbox
    # the script never puts data in as markup
    script = (Path(__file__).parents[2] / "admin_web/static/inbox.js").read_text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script


async def test_the_inbox_hears_of_a_new_conversation_and_counts_the_waiting(client, simulator):
    # given an agent with the inbox open, nobody waiting
    await staff_signed_in(client, "agent-1", StaffRole.AGENT)
    stream = await EventStream.open(client, "/admin/support/stream")
    try:
        hello = await stream.next("inbox")
        assert hello["data"] == {"kind": "hello", "conversation_id": None, "waiting": 0}
        # when alice asks for a person
        conversation = await _handed_to_a_person(simulator)
        # then the inbox hears of the new conversation, with one waiting
        opened = await stream.next("inbox")
        assert opened["data"] == {"kind": "opened", "conversation_id": conversation.id, "waiting": 1}
    finally:
        stream.close()
    # and the rows the page swaps in list it, with its claim button
    rows = await client.get("/admin/support/rows?status=waiting")
    html = await rows.text()
    assert rows.status == 200 and f'href="/admin/support/{conversation.id}"' in html
    assert f'action="/admin/support/{conversation.id}/claim"' in html and 'data-waiting="1"' in html
    assert "<html" not in html  # the rows alone


async def test_a_reconnect_with_last_event_id_gets_what_it_missed(client, simulator):
    conversation = await _handed_to_a_person(simulator)
    await staff_signed_in(client, "agent-1", StaffRole.AGENT)
    page = await (await client.get(f"/admin/support/{conversation.id}")).text()
    stream = await EventStream.open(client, f"/admin/support/{conversation.id}/stream?since={_since(page)}")
    await follower_says(simulator, "alice", "第一条")
    first = await stream.next("message")
    stream.close()
    # when alice writes while the agent's connection is down
    await follower_says(simulator, "alice", "断线时发的")
    await follower_says(simulator, "alice", "还有这条")
    # then the browser's reconnect (Last-Event-ID) is sent both, in order, and nothing twice
    again = await EventStream.open(
        client, f"/admin/support/{conversation.id}/stream?since=0.0", **{"Last-Event-ID": first["id"]}
    )
    try:
        missed = [(await again.next("message"))["data"]["content"] for _ in range(2)]
        assert missed == ["断线时发的", "还有这条"]
    finally:
        again.close()
    # and a page opened from scratch (since=0) is told the whole story, changes included
    whole = await EventStream.open(client, f"/admin/support/{conversation.id}/stream?since=0")
    try:
        assert (await whole.next("note"))["data"]["text"] == "粉丝请求人工客服（关键词）"
        assert (await whole.next("message"))["data"]["content"] == "人工"
    finally:
        whole.close()


async def test_an_event_from_another_process_reaches_the_stream(client, simulator, wired_settings):
    conversation = await _handed_to_a_person(simulator)
    await staff_signed_in(client, "agent-1", StaffRole.AGENT)
    page = await (await client.get(f"/admin/support/{conversation.id}")).text()
    stream = await EventStream.open(client, f"/admin/support/{conversation.id}/stream?since={_since(page)}")
    try:
        if TEST_REDIS_URL:
            # a second process (its own core on the same database and Redis) records a message
            await asyncio.to_thread(_record_in_another_process, wired_settings, conversation.id, "另一进程")
        else:
            # the embedded Redis lives in this process only: the core service publishes here
            from commerce.support import conversations

            await conversations.record_incoming(
                conversation_id=conversation.id, msg_type="text", content="另一进程"
            )
        event = await stream.next("message")
        assert event["data"]["content"] == "另一进程"
    finally:
        stream.close()


def _record_in_another_process(settings: Settings, conversation_id: int, text: str) -> None:
    script = (
        "import asyncio, json, sys\n"
        "from commerce.config import load_settings\n"
        "from commerce.core import open_core\n"
        "from commerce.support import conversations\n"
        "from shop.subscriptions import subscribers\n"
        "async def main():\n"
        "    settings = load_settings(**json.loads(sys.argv[1]))\n"
        "    async with open_core(settings, subscribers, build_search_index=False):\n"
        "        await conversations.record_incoming(\n"
        "            conversation_id=int(sys.argv[2]), msg_type='text', content=sys.argv[3])\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, settings.model_dump_json(), str(conversation_id), text],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


async def test_a_stream_beats_and_ends_with_its_client_or_session(client, simulator, monkeypatch):
    monkeypatch.setattr(support_live, "HEARTBEAT_SECONDS", 0.2)
    conversation = await _handed_to_a_person(simulator)
    await staff_signed_in(client, "agent-1", StaffRole.AGENT)
    redis = client.app[CORE].redis
    channel = live.conversation_channel(redis, conversation.id)
    # an open stream is subscribed, and beats while nothing happens
    stream = await EventStream.open(client, f"/admin/support/{conversation.id}/stream")
    await _until(lambda: _subscribers(redis, channel), 1)
    await asyncio.sleep(0.5)
    await follower_says(simulator, "alice", "在吗")
    await stream.next("message")
    assert ": ping" in stream.comments
    # when the browser goes away, the subscription goes too
    stream.close()
    await _until(lambda: _subscribers(redis, channel), 0)
    # and signing out ends a stream that is still open
    stream = await EventStream.open(client, "/admin/support/stream")
    await stream.next("inbox")
    page = await (await client.get("/admin/support")).text()
    await client.post("/admin/logout", data={"csrf_token": csrf_of(page)})
    assert await stream.ended()
    # and a server shutting down ends its streams at once (admin_web's on_shutdown hook)
    await staff_signed_in(client, "agent-2", StaffRole.AGENT)
    stream = await EventStream.open(client, "/admin/support/stream")
    await stream.next("inbox")
    await support_live.close_streams(client.app)
    assert await stream.ended(within=2.0)


async def _subscribers(redis, channel: str) -> int:
    return dict(await redis.pubsub_numsub(channel)).get(channel.encode(), 0)


async def _until(read, expected, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while (value := await read()) != expected:
        assert time.monotonic() < deadline, f"still {value}, expected {expected}"
        await asyncio.sleep(0.05)
