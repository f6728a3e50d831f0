"""What the admin walk needs besides its clicks: Chromium opened the way CI runs it, a tiny real
PNG to upload, a shopper who orders and pays through the mini-program API, a follower writing
to the official account."""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from playwright.async_api import Page, async_playwright

from tests.edges.paying import pay_order, sim
from tests.edges.shoppers import ADDRESS, auth_headers

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the machine's closed network refuses Chromium's own calls
    "--disable-component-update",
    "--disable-sync",
]
# Long enough for MariaDB on a busy CI machine; short enough that a broken step fails quickly.
STEP_TIMEOUT_MS = 15_000


@asynccontextmanager
async def admin_browser(failure_shot: str) -> AsyncIterator[Page]:
    """A page in headless Chromium; if the walk fails, what the page showed is saved as
    test-artifacts/<failure_shot> to see why."""
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        page = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        page.set_default_timeout(STEP_TIMEOUT_MS)
        try:
            yield page
        except BaseException:
            with suppress(Exception):  # never hide the failure behind a failed screenshot
                await page.screenshot(path=ARTIFACTS / failure_shot, full_page=True)
            raise
        finally:
            await browser.close()


async def sign_in(page: Page, base: str, username: str, password: str) -> None:
    await page.goto(f"{base}/admin/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/admin/")


async def open_section(page: Page, title: str) -> None:
    """Follow the navigation's link (the sections every page shows on the left)."""
    await page.locator("nav").get_by_role("link", name=title, exact=True).click()


def write_png(path: Path) -> Path:
    """A real 1x1 PNG (the upload checks the content, not the name)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )
    return path


async def shopper_buys(client, simulator, user: str, sku_id: int) -> dict:
    """A shopper orders one of the SKU in the mini-program and pays in the WeChat sheet; the
    order as the API answered, with the shopper's headers and WeChat Pay's transaction id."""
    headers = await auth_headers(client, simulator, user)
    address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
    body = {"items": [{"sku_id": sku_id, "quantity": 1}], "address_id": address["id"]}
    placed = await client.post(
        "/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert placed.status == 201, await placed.text()
    order = await placed.json()
    paid = await pay_order(client, simulator, headers, order["id"])
    return {**order, "headers": headers, "transaction_id": paid["transaction_id"]}


async def custom_messages_to(simulator, user: str) -> list[str]:
    """What staff sent the follower through WeChat's customer-service messages."""
    _, log = await sim(simulator, "GET", f"/mp/messages?user={user}")
    return [m["body"]["content"] for m in log["messages"] if m["direction"] == "custom"]
