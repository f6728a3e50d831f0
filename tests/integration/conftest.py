"""Fixtures of the integration tests (the core without the web apps)."""

import pytest
from aiohttp import web

from commerce.wechat.client import WeChatClient


class FakeWeChat:
    """The WeChat API's two calls a reply makes, answering as a test says."""

    def __init__(self) -> None:
        self.answer: dict = {"errcode": 0, "errmsg": "ok"}
        self.status = 200
        self.sent: list[dict] = []
        self.client: WeChatClient


@pytest.fixture
async def fake_wechat(aiohttp_server, core, settings):
    fake = FakeWeChat()

    async def stable_token(request: web.Request) -> web.Response:
        return web.json_response({"access_token": "t", "expires_in": 7200})

    async def custom_send(request: web.Request) -> web.Response:
        assert request.query["access_token"] == "t"
        fake.sent.append(await request.json())
        return web.json_response(fake.answer, status=fake.status)

    app = web.Application()
    app.router.add_post("/cgi-bin/stable_token", stable_token)
    app.router.add_post("/cgi-bin/message/custom/send", custom_send)
    server = await aiohttp_server(app)
    fake.client = WeChatClient(
        settings=settings.model_copy(update={"wechat_api_base": str(server.make_url("")).rstrip("/")}),
        redis=core.redis,
        appid="wx-fake-mp",
        secret="fake-secret",
    )
    yield fake
    await fake.client.close()
