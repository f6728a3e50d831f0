"""Builders every test tier shares: staff signed in to the admin web, shoppers with an address,
orders paid or shipped through the simulated WeChat Pay, WeChat Pay's genuine notifications,
followers of the official account, and the files and forms staff upload.

A test module imports what it needs from here (or from tests/edges/shoppers.py, paying.py,
mp_pushes.py and wechatpay_forgery.py, the lower-level helpers these build on), never from
another test module."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiohttp import FormData

from commerce.catalog import import_jobs
from commerce.catalog.catalog_file import COLUMNS
from commerce.catalog.models import Sku
from commerce.errors import CommerceError
from commerce.orders.services import ship_order
from commerce.payments.models import Payment, Refund
from commerce.staff.models import StaffAccount
from commerce.staff.services import _hasher, create_platform_admin
from commerce.staff.states import StaffRole
from shop.app import CORE
from tests.edges import wechatpay_forgery as forge
from tests.edges.paying import pay_order, settle_outbox, sim
from tests.edges.shoppers import ADDRESS, log_in
from tests.factories import seed_small_catalog, sku_row

# --- staff in the admin web ------------------------------------------------------------------

PASSWORD = "a-long-password-1"  # every staff account the builders make has it


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def sign_in(client, username: str, password: str = PASSWORD):
    """Post the sign-in form as a browser does; the response (302 when signed in)."""
    form = await (await client.get("/admin/login")).text()
    data = {"username": username, "password": password, "csrf_token": csrf_of(form)}
    return await client.post("/admin/login", data=data, allow_redirects=False)


async def add_staff(username: str, role: StaffRole, merchant_id: int | None = None) -> StaffAccount:
    """A staff account of that role (a merchant's people name their merchant), password PASSWORD."""
    return await StaffAccount.create(
        username=username, password_hash=_hasher.hash(PASSWORD), role=role, merchant_id=merchant_id
    )


async def signed_in(client, username: str) -> str:
    """The client's browser signed in as this staff member alone; a CSRF token of theirs."""
    client.session.cookie_jar.clear()
    assert (await sign_in(client, username)).status == 302
    return csrf_of(await (await client.get("/admin/")).text())


async def staff_signed_in(
    client, username: str, role: StaffRole | None = None, merchant_id: int | None = None
) -> str:
    """A new account of that role (a platform admin without one), signed in; a CSRF token."""
    if role is None:
        await create_platform_admin(username=username, password=PASSWORD)
    else:
        await add_staff(username, role, merchant_id)
    return await signed_in(client, username)


# --- shoppers and their orders ---------------------------------------------------------------

# A product of a second category, for tests that need two SKUs of different prices.
CABLE = sku_row("P9", "P9-1", title="快充数据线", category="数码 > 配件 > 数据线", price="29.90", stock=10)


async def shopper_with_address(client, simulator, user: str = "alice", address: dict | None = None) -> dict:
    """A shopper signed in through the simulator with a saved delivery address (ADDRESS unless
    told), as the order and payment APIs take one: {"headers", "address_id", "user_id"}."""
    login = await log_in(client, simulator, user)
    headers = {"Authorization": f"Bearer {login['token']}"}
    saved = await client.post("/api/v1/addresses", json=address or ADDRESS, headers=headers)
    assert saved.status == 201, await saved.text()
    return {"headers": headers, "address_id": (await saved.json())["id"], "user_id": login["user"]["id"]}


@dataclass
class Shopper:
    """A shopper of the mini-program: signed in through the simulator, with an address."""

    client: object
    simulator: object
    headers: dict
    address_id: int
    user_id: int

    @classmethod
    async def start(cls, client, simulator, user: str, address: dict | None = None) -> Shopper:
        shopper = await shopper_with_address(client, simulator, user, address)
        return cls(client, simulator, shopper["headers"], shopper["address_id"], shopper["user_id"])

    async def order(self, sku_codes: list[str], *, paid: bool = True) -> dict:
        items = [{"sku_id": (await Sku.get(sku_code=c)).id, "quantity": 1} for c in sku_codes]
        placed = await self.client.post(
            "/api/v1/orders",
            json={"items": items, "address_id": self.address_id},
            headers={**self.headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert placed.status == 201, await placed.text()
        order = await placed.json()
        if paid:
            await pay_order(self.client, self.simulator, self.headers, order["id"])
        return order

    async def refunded_after_shipping(self, sku_code: str, reason: str = "不想要了") -> tuple[int, int]:
        """(order id, after-sales request id) of an order shipped and then sent back for a
        refund of all of it (the API's whole-order shortcut): the request waits for review."""
        order = await self.order([sku_code])
        await ship(order)
        asked = await self.client.post(
            f"/api/v1/orders/{order['id']}/refunds", json={"reason": reason}, headers=self.headers
        )
        assert asked.status == 201, await asked.text()
        return order["id"], (await asked.json())["aftersales"][-1]["id"]


async def paid_order(
    client, simulator, *, sku_code: str = "P2-W", user: str = "alice", pickup_point_id: int | None = None
) -> dict:
    """One unit of a SKU (of the small catalog, seeded if the shop has none) ordered by a new
    shopper (delivered to their address, or collected at the pickup point) and paid through
    the simulated WeChat Pay: the order as the API shows it, with the shopper's headers, the
    transaction id and the SKU's id."""
    if not await Sku.exists(sku_code="P2-W"):
        await seed_small_catalog()
    shopper = await shopper_with_address(client, simulator, user)
    headers = shopper["headers"]
    sku = await Sku.get(sku_code=sku_code)
    body = {"items": [{"sku_id": sku.id, "quantity": 1}], "address_id": shopper["address_id"]}
    if pickup_point_id is not None:
        body["fulfilment"] = {"kind": "pickup", "pickup_point_id": pickup_point_id}
    created = await client.post(
        "/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert created.status == 201, await created.text()
    order = await created.json()
    paid = await pay_order(client, simulator, headers, order["id"])
    return {**order, "headers": headers, "transaction_id": paid["transaction_id"], "sku_id": sku.id}


async def ship(order: dict) -> None:
    """Ship a paid order (as staff of the platform would) and let WeChat hear of it."""
    await ship_order(
        order_id=order["id"], carrier="顺丰速运", tracking_no="SF" + order["order_no"][-10:], actor="staff:0"
    )
    await settle_outbox()


async def shipped_order(client, simulator, *, sku_code: str = "P2-W", user: str = "alice") -> dict:
    """A paid order (see paid_order), shipped."""
    order = await paid_order(client, simulator, sku_code=sku_code, user=user)
    await ship(order)
    return order


async def ask_refund(client, order: dict, reason: str = "耳机左边没声音") -> dict:
    """The shopper asks for the order's refund (order as paid_order returns it); the refund."""
    response = await client.post(
        f"/api/v1/orders/{order['id']}/refunds", json={"reason": reason}, headers=order["headers"]
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def latest_refund(order: dict) -> Refund:
    return await Refund.filter(order_id=order["id"]).order_by("-id").first()


# --- WeChat Pay's notifications --------------------------------------------------------------


async def genuine_paid_transaction(settings, order: dict, transaction_id: str) -> dict:
    """The transaction WeChat Pay reports once the shopper paid the order's pending payment:
    right app, merchant, amount and payer."""
    payment = await Payment.filter(checkout__orders__id=order["id"]).order_by("-id").first()
    return forge.paid_transaction(
        appid=settings.miniapp_appid,
        mchid=settings.wechat_pay_mchid,
        out_trade_no=payment.out_trade_no,
        total=payment.amount,
        openid=payment.payer_openid,
        transaction_id=transaction_id,
    )


async def genuine_pay_notification(
    data_dir: Path, settings, order: dict, transaction_id: str
) -> tuple[dict[str, str], bytes]:
    """(headers, body) of the notification WeChat Pay (the simulator's platform key) sends
    when the order's pending payment is paid."""
    transaction = await genuine_paid_transaction(settings, order, transaction_id)
    return forge.notification(forge.platform(data_dir), transaction)


# --- followers of the official account -------------------------------------------------------


async def follower_says(simulator, user: str, text: str) -> None:
    """A follower writes to the official account (WeChat calls our bot's webhook)."""
    status, answer = await sim(simulator, "POST", "/mp/send", {"user": user, "type": "text", "content": text})
    assert status == 200 and answer["status"] == 200, answer


async def new_follower(simulator, user: str) -> str:
    """The user follows the official account (WeChat pushes the event to the shop); their openid."""
    status, result = await sim(
        simulator, "POST", "/mp/send", {"user": user, "type": "event", "event": "subscribe"}
    )
    assert (status, result["status"], result["error"]) == (200, 200, None), result
    return await openid_of(simulator, user)


async def openid_of(simulator, user: str) -> str:
    """The follower's openid at the official account."""
    status, log = await sim(simulator, "GET", f"/mp/messages?user={user}")
    assert status == 200, log
    return log["openid"]


# --- forms and uploaded files ----------------------------------------------------------------


class _FormFields(HTMLParser):
    """What a browser sends for the form with this action: its inputs (not buttons or
    files; checkboxes when checked), selected options and textareas, in page order."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, []
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif not self.inside:
            return
        elif tag == "input" and "name" in a and a.get("type", "text") not in ("submit", "file"):
            if a.get("type") != "checkbox" or "checked" in a:
                self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value") or ""))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.fields.append((self._textarea, ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        self._select = None if tag == "select" else self._select
        self._textarea = None if tag == "textarea" else self._textarea

    def handle_data(self, data):
        if self._textarea:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)


def form_fields(html: str, action: str, **changes: str) -> list[tuple[str, str]]:
    """The form's fields as the page shows them, with some changed as a person would type."""
    parser = _FormFields(action)
    parser.feed(html)
    fields = [(name, changes.pop(name, value)) for name, value in parser.fields]
    return fields + list(changes.items())


def file_form(
    fields: list[tuple[str, str]], name: str, content: bytes, content_type: str = "text/csv"
) -> FormData:
    """A form with fields and one uploaded file (as "file")."""
    data = FormData()
    for field, value in fields:
        data.add_field(field, value)
    data.add_field("file", content, filename=name, content_type=content_type)
    return data


def catalog_csv(rows: list[dict]) -> bytes:
    """A catalog file in the importer's columns (unnamed cells left empty)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


async def upload_catalog(client, filename: str, content: bytes, content_type: str = "text/csv"):
    """The signed-in staff member uploads a catalog file from the import page; the response."""
    page = await (await client.get("/admin/products/import")).text()
    form = file_form([("csrf_token", csrf_of(page))], filename, content, content_type)
    return await client.post("/admin/products/import", data=form, allow_redirects=False)


async def imported_catalog(client, filename: str, content: bytes, content_type: str = "text/csv") -> dict:
    """Upload a catalog file and wait for its job to finish, as the job page's script does;
    the job's JSON with its page's location."""
    started = await upload_catalog(client, filename, content, content_type)
    assert started.status == 303, await started.text()
    return await import_job_result(client, started.headers["Location"])


async def import_job_result(client, location: str) -> dict:
    """The finished job's JSON (polled as the job page does), with its page's location."""
    assert re.fullmatch(r"/admin/products/import/[A-Za-z0-9_-]{20,40}", location)
    for _ in range(800):
        job = await (await client.get(f"{location}.json")).json()
        if job["status"] != "running":
            return {**job, "location": location}
        await asyncio.sleep(0.025)  # the job runs in the background of the server
    raise AssertionError("the import did not finish")


async def finished_import(client, staff_id: int, merchant_id: int | None, rows: list[dict]) -> str:
    """An import job run to its end (as if the staff member had uploaded the rows); its id."""
    job_id = await import_jobs.start_import(
        redis_client=client.app[CORE].redis,
        data=catalog_csv(rows),
        filename="catalog.csv",
        staff_id=staff_id,
        merchant_id=merchant_id,
        actor=f"staff:{staff_id}",
    )
    await import_finished(client, staff_id, job_id)
    return job_id


async def import_finished(client, staff_id: int, job_id: str) -> None:
    """Wait for an import job of this staff member to end."""
    redis = client.app[CORE].redis
    for _ in range(400):
        job = await import_jobs.get_job(redis_client=redis, job_id=job_id, staff_id=staff_id)
        if job.status is not import_jobs.JobStatus.RUNNING:
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the import did not finish")


# --- errors ----------------------------------------------------------------------------------


def refused(caught: pytest.ExceptionInfo, code) -> bool:
    """The call raised our error with this stable code."""
    return isinstance(caught.value, CommerceError) and caught.value.error_code is code
