"""Markup that shoppers, followers, merchants or staff typed is shown as text on every admin page
that shows it (product titles and spec values, merchant names, nicknames, receivers, follower
messages, notes, refund reasons, canned replies, file names, search words), to the platform and
to the merchant alike; what the admin serves as data is served as data, not as a page."""

from __future__ import annotations

from html.parser import HTMLParser

from markupsafe import escape

from commerce.catalog.importer import import_rows
from commerce.catalog.models import Product
from commerce.merchants.models import Merchant
from commerce.merchants.services import ensure_merchant
from commerce.staff.models import StaffAccount
from commerce.staff.services import create_platform_admin
from commerce.support.models import Conversation
from commerce.users.models import User
from tests.builders import PASSWORD, Shopper, catalog_csv, file_form, import_finished, signed_in
from tests.edges.paying import sim
from tests.edges.shoppers import ADDRESS
from tests.factories import sku_row

SCRIPT = "<script>alert(1)</script>"


def attr(n: int) -> str:
    """A payload that leaves an attribute, if it is not escaped (30 characters)."""
    return f'"><img src=x onerror=alert({n})>'


BOTH = SCRIPT + attr(1)
# One payload per field (each told apart by its words), within each field's length limit.
MERCHANT, TITLE, SPEC, RECEIVER = BOTH + "鲜果铺", BOTH + "绿茶", attr(2), attr(3)
NICKNAME, MESSAGE, LAST_MESSAGE = BOTH + "小爱", BOTH + "快递丢了", attr(4) + "在吗"
NOTE, REASON, REFUSAL, SUSPENSION = BOTH + "备注", BOTH + "退款理由", BOTH + "拒绝理由", BOTH + "暂停理由"
CANNED_TITLE, CANNED_TEXT = attr(5), BOTH + "快捷回复"
FILE_NAME, ROW_TITLE, SEARCH = f"{attr(6)[2:]}.csv", BOTH + "坏行", attr(7)


def shown(value: str) -> str:
    """The value as a page shows text: escaped the way the templates escape it."""
    return str(escape(value))


class _LiveMarkup(HTMLParser):
    """What in a page would run: inline scripts and event-handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("an inline <script>")
        self.found += [f"<{tag} {name}=…>" for name in names if name.startswith("on")]


def assert_inert(where: str, html: str, *values: str) -> None:
    """No payload in the page as markup; each of `values` in it as text."""
    assert "<script>alert" not in html and "<img src=x" not in html, f"{where}: a payload as markup"
    live = _LiveMarkup()
    live.feed(html)
    assert not live.found, f"{where}: {live.found}"
    for value in values:
        assert shown(value) in html, f"{where}: {value!r} not shown as text"


async def _page(client, path: str, status: int = 200) -> str:
    response = await client.get(path)
    assert response.status == status, path
    return await response.text()


async def _post(client, csrf: str, path: str, form: dict, status: int = 302):
    response = await client.post(path, data={"csrf_token": csrf, **form}, allow_redirects=False)
    assert response.status == status, (path, await response.text())
    return response


async def _upload(client, csrf: str, path: str, name: str, content: bytes):
    form = file_form([("csrf_token", csrf)], name, content)
    return await client.post(path, data=form, allow_redirects=False)


async def test_what_people_typed_is_shown_as_text_on_every_admin_page(client, simulator):
    # given the platform admin makes a merchant whose name is markup, and its owner
    await create_platform_admin(username="boss", password=PASSWORD)
    csrf = await signed_in(client, "boss")
    await _post(client, csrf, "/admin/merchants", {"code": "shop-x", "name": MERCHANT})
    merchant = (await Merchant.get(code="shop-x")).id
    owner = {"username": "x-owner", "password": PASSWORD, "role": "merchant_owner"}
    await _post(client, csrf, f"/admin/merchants/{merchant}/staff", owner)
    # a username that is markup is refused, the form showing what was typed as text
    refused = await _post(
        client, csrf, f"/admin/merchants/{merchant}/staff", {**owner, "username": BOTH}, 400
    )
    assert_inert("the refused account form", await refused.text(), BOTH)
    assert not await StaffAccount.exists(username=BOTH)
    # its product's title and a spec value are markup
    row = sku_row(
        "X1", "X1-1", title=TITLE, category="食品 > 茶叶 > 绿茶", price="19.90", specs=f"颜色:{SPEC}"
    )
    assert not (await import_rows([row], merchant_id=merchant)).problems
    product = (await Product.get(spu_code="X1")).id
    # a shopper whose nickname and receiver are markup orders it three times, and asks for a
    # refund of two of the orders once they are shipped (one reason is markup)
    alice = await Shopper.start(client, simulator, "alice", {**ADDRESS, "receiver_name": RECEIVER})
    await User.filter(id=alice.user_id).update(nickname=NICKNAME)
    paid = (await alice.order(["X1-1"]))["id"]
    refunded, asked = await alice.refunded_after_shipping("X1-1", reason=REASON)
    refused_order, refused_refund = await alice.refunded_after_shipping("X1-1", reason="质量问题")
    # she writes markup to the official account after asking for a person
    for content in ("人工", MESSAGE, LAST_MESSAGE):
        await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "text", "content": content})
    conversation = (await Conversation.get()).id
    # and staff type markup: an order note, a refusal, a canned reply, a suspension's reason
    await _post(client, csrf, f"/admin/orders/{paid}/notes", {"text": NOTE})
    await _post(
        client,
        csrf,
        f"/admin/aftersales/{refused_refund}/refuse",
        {"reason": REFUSAL},
    )
    await _post(client, csrf, "/admin/support/canned", {"title": CANNED_TITLE, "text": CANNED_TEXT})
    spare = await ensure_merchant(code="shop-y", name="乙店")
    await _post(
        client, csrf, f"/admin/merchants/{spare}/status", {"status": "suspended", "reason": SUSPENSION}
    )
    await _post(client, csrf, f"/admin/products/{product}/status", {"status": "off_shelf"})
    # an import file named with markup whose rows fail with a markup title
    bad = catalog_csv([{"category": "食品 > 茶叶", "spu_code": "X2", "title": ROW_TITLE, "sku_code": "X2-1"}])
    started = await _upload(client, csrf, "/admin/products/import", FILE_NAME, bad)
    assert started.status == 303
    job = started.headers["Location"]
    await import_finished(client, (await StaffAccount.get(username="boss")).id, job.rsplit("/", 1)[-1])

    # then every page the platform admin opens shows them as text
    platform_pages = {
        "/admin/": (),
        "/admin/merchants": (MERCHANT,),
        f"/admin/merchants/{merchant}": (MERCHANT,),
        "/admin/products": (TITLE, MERCHANT),  # the merchant: its column and the filter
        "/admin/products/new": (MERCHANT,),  # the merchant to choose
        f"/admin/products/{product}": (TITLE, SPEC),
        f"/admin/products/bulk?id={product}": (TITLE, SPEC),
        "/admin/orders": (TITLE, RECEIVER),
        f"/admin/orders/{paid}": (TITLE, SPEC, RECEIVER, NOTE),
        f"/admin/orders/{refunded}": (REASON,),
        f"/admin/orders/{refused_order}": (),
        "/admin/aftersales": (REASON,),
        f"/admin/aftersales/{asked}": (REASON,),
        f"/admin/aftersales/{refused_refund}": (REFUSAL,),
        "/admin/users": (NICKNAME,),
        f"/admin/users/{alice.user_id}": (NICKNAME,),
        "/admin/support": (LAST_MESSAGE,),  # the last message's preview
        "/admin/support/rows": (LAST_MESSAGE,),
        f"/admin/support/{conversation}": (MESSAGE, LAST_MESSAGE, NICKNAME, CANNED_TITLE, CANNED_TEXT),
        "/admin/support/canned": (CANNED_TITLE, CANNED_TEXT),
        "/admin/audit": (MERCHANT, TITLE, NOTE, REFUSAL, CANNED_TITLE, SUSPENSION, FILE_NAME),
        job: (FILE_NAME, ROW_TITLE),
    }
    for path, values in platform_pages.items():
        assert_inert(path, await _page(client, path), *values)
    # and what anyone may type into a search or filter comes back as text
    for path in ("/admin/orders", "/admin/products", "/admin/users", "/admin/audit"):
        found = await client.get(path, params={"q": SEARCH})
        assert_inert(f"{path}?q=", await found.text(), SEARCH)
    for path, params in (
        ("/admin/orders", {"from": SEARCH, "to": SCRIPT, "status": SEARCH}),
        ("/admin/products", {"status": SEARCH, "stock": SEARCH, "category": SEARCH, "merchant": SEARCH}),
        (
            "/admin/aftersales",
            {"status": SEARCH, "kind": SEARCH, "order_no": SEARCH, "from": SCRIPT, "page": SEARCH},
        ),
        ("/admin/support", {"status": SEARCH}),
        ("/admin/products/export", {"q": SEARCH}),
    ):
        assert_inert(f"{path}?{params}", await (await client.get(path, params=params)).text())

    # and so does every page of the merchant's own owner
    await signed_in(client, "x-owner")
    merchant_pages = {
        "/admin/": (),
        "/admin/products": (TITLE,),
        f"/admin/products/{product}": (TITLE, SPEC),
        f"/admin/products/bulk?id={product}": (TITLE, SPEC),
        "/admin/orders": (TITLE, RECEIVER),
        f"/admin/orders/{paid}": (TITLE, SPEC, RECEIVER, NOTE),
        f"/admin/orders/{refunded}": (REASON,),
        f"/admin/orders/{refused_order}": (),
        "/admin/aftersales": (REASON,),
        f"/admin/aftersales/{asked}": (REASON,),
        f"/admin/aftersales/{refused_refund}": (REFUSAL,),
        "/admin/users": (NICKNAME,),  # its customer
        f"/admin/users/{alice.user_id}": (NICKNAME,),
    }
    for path, values in merchant_pages.items():
        assert_inert(f"merchant {path}", await _page(client, path), *values)


async def test_the_admins_data_is_served_as_data_not_as_a_page(client, simulator):
    # given an import job of a file named with markup, and a follower waiting
    await create_platform_admin(username="boss", password=PASSWORD)
    csrf = await signed_in(client, "boss")
    bad = catalog_csv([{"category": "食品 > 茶叶", "spu_code": "X2", "title": ROW_TITLE, "sku_code": "X2-1"}])
    started = await _upload(client, csrf, "/admin/products/import", FILE_NAME, bad)
    job = started.headers["Location"]
    await import_finished(client, (await StaffAccount.get(username="boss")).id, job.rsplit("/", 1)[-1])
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "text", "content": "人工"})
    conversation = (await Conversation.get()).id
    # then the job's progress is JSON (the markup a string in it), never HTML
    answer = await client.get(f"{job}.json")
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert (await answer.json())["filename"] == FILE_NAME
    # downloads are attachments of their own type, and live updates an event stream
    for path, kind in (
        (f"{job}/errors.csv", "text/csv"),
        ("/admin/products/export", "text/csv"),
        ("/admin/products/import/template.csv", "text/csv"),
        ("/admin/products/import/template.xlsx", "application/vnd.openxmlformats"),
        ("/admin/orders/ship-bulk/template.xlsx", "application/vnd.openxmlformats"),
    ):
        download = await client.get(path)
        assert download.status == 200, path
        assert download.headers["Content-Type"].startswith(kind), path
        assert download.headers["Content-Disposition"].startswith("attachment"), path
        assert "<" not in download.headers["Content-Disposition"], path
    for path in ("/admin/support/stream", f"/admin/support/{conversation}/stream"):
        stream = await client.get(path)
        assert stream.status == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
        assert stream.headers["X-Content-Type-Options"] == "nosniff"
        stream.close()
