"""WeChat Pay calls the merchant back: encrypted, signed notifications, retried on WeChat's
schedule until acknowledged (HTTP 200 or 204), sometimes twice from different servers.

One Notifier per app owns the HTTP client session and every background task (retries, refunds
settling); both end with the app."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
import secrets
import string
import uuid
from collections.abc import Coroutine
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wechat_simulator.pay_http import dumps, signed_headers
from wechat_simulator.pay_state import Attempt, Notification, rfc3339
from wechat_simulator.state import SimulatorState

# WeChat's documented retry schedule after a failed notification, in seconds.
RETRY_SCHEDULE = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)
DUPLICATE_GAP = 1.0  # seconds between a notification and its duplicate from another server
ACKNOWLEDGED = (200, 204)
SUMMARIES = {
    "TRANSACTION.SUCCESS": "支付成功",
    "REFUND.SUCCESS": "退款成功",
    "REFUND.ABNORMAL": "退款异常",
    "REFUND.CLOSED": "退款关闭",
    "MCHTRANSFER.BILL.FINISHED": "商家转账单据终态通知",
}


def encrypt_resource(apiv3_key: str, associated_data: str, plaintext: str) -> dict[str, str]:
    """The notification's resource: AEAD_AES_256_GCM with the APIv3 key, as WeChat sends it."""
    nonce = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
    sealed = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), plaintext.encode(), associated_data.encode())
    return {
        "original_type": associated_data,
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(sealed).decode(),
        "associated_data": associated_data,
        "nonce": nonce,
    }


class Notifier:
    def __init__(self, state: SimulatorState) -> None:
        self.state = state
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run in the background until done or until the app is cleaned up."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    def create(
        self, event_type: str, subject: str, key: str, url: str, plaintext: dict[str, Any]
    ) -> Notification:
        """A new notification about a transaction or a refund: recorded, not sent yet."""
        pay, now = self.state.pay, self.state.now()
        envelope = {
            "id": str(uuid.uuid4()),
            "create_time": rfc3339(now),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": SUMMARIES[event_type],
            "resource": encrypt_resource(pay.keys.apiv3_key, subject, dumps(plaintext)),
        }
        notice = Notification(envelope["id"], event_type, subject, key, url, dumps(envelope), now)
        if pay.notifications_to_lose > 0:  # asked for by a test: this one never arrives
            pay.notifications_to_lose -= 1
            notice.lost = True
        pay.notifications[notice.id] = notice
        pay.last_notice[f"{subject}:{key}"] = notice.id
        return notice

    async def send(self, notice: Notification, copies: int = 1) -> list[int | None]:
        """Send now from `copies` servers at once; the statuses answered (None: no answer).
        Unacknowledged, it is retried on WeChat's schedule; some are sent twice. A lost one
        is not sent (nor retried) the first time; a redelivery sends it."""
        if notice.lost:
            notice.lost, notice.gave_up = False, True
            return [None] * copies
        statuses = await asyncio.gather(*(self._attempt(notice, server) for server in range(1, copies + 1)))
        if not notice.delivered and not notice.retrying:
            notice.retrying = True
            self.spawn(self._retry(notice))
        if random.random() < self.state.config.duplicate_notify_rate:
            self.spawn(self._duplicate(notice, server=copies + 1))
        return list(statuses)

    async def _retry(self, notice: Notification) -> None:
        try:
            for delay in RETRY_SCHEDULE:
                await asyncio.sleep(delay * self.state.config.notify_retry_scale)
                if notice.delivered or await self._attempt(notice, 1) in ACKNOWLEDGED:
                    return
            notice.gave_up = True
        finally:
            notice.retrying = False

    async def _duplicate(self, notice: Notification, server: int) -> None:
        await asyncio.sleep(DUPLICATE_GAP)
        await self._attempt(notice, server)

    async def _attempt(self, notice: Notification, server: int) -> int | None:
        """One delivery: the same body, signed afresh (new timestamp and nonce)."""
        state = self.state
        headers = signed_headers(state.pay.keys, state.now(), notice.body)
        headers.update({"Content-Type": "application/json", "User-Agent": "Mozilla/4.0"})
        status: int | None = None
        error = ""
        try:
            async with self._client().post(
                notice.url,
                data=notice.body.encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=state.config.notify_timeout_seconds),
                allow_redirects=False,
            ) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            error = type(exc).__name__
        notice.attempts.append(Attempt(state.now(), server, status, error))
        if status in ACKNOWLEDGED:
            notice.delivered = True
        return status

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session


NOTIFIER = web.AppKey("simulator_pay_notifier", Notifier)


async def close_notifier(app: web.Application) -> None:
    """on_cleanup: stop retries and settling refunds, close the client session."""
    await app[NOTIFIER].close()
