"""Products for staff: list, create and edit (spec axes and the SKU grid), shelf, bulk edits.

A merchant's people see and change only their merchant's products: the core scopes every
read and write by staff.merchant_id, so another merchant's product is a 404 whatever was sent.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp_jinja2
from aiohttp import web

from admin_web import product_form
from admin_web.keys import CORE
from admin_web.product_form import ProductForm
from admin_web.security import path_id, session_for
from commerce.catalog import backoffice
from commerce.catalog.states import ProductStatus
from commerce.errors import CommerceError, CommonError, ErrorKind
from commerce.merchants.services import list_merchants
from commerce.money import MoneyFormatError, fen_to_yuan, yuan_to_fen
from commerce.staff.auth import Staff
from commerce.staff.permissions import Permission, require

STATUS_TEXT = {"draft": "草稿", "on_sale": "在售", "off_shelf": "已下架"}
STOCK_TEXT = {"": "全部库存", "low": f"库存紧张（≤{backoffice.LOW_STOCK}）", "sold_out": "已售罄"}
NOTICES = {
    "on_sale": "已上架 {n} 个商品",
    "off_shelf": "已下架 {n} 个商品",
    "bulk": "已修改 {n} 个规格",
    "empty": "请先勾选商品",
}
FILTERS = ("q", "status", "category", "stock", "merchant")
_DIGITS = re.compile(r"^[0-9]{1,9}$")
SHELF_ACTIONS = {"on_sale": ProductStatus.ON_SALE, "off_shelf": ProductStatus.OFF_SHELF}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/products", list_page)
    router.add_post("/products/batch", batch)
    router.add_get("/products/bulk", bulk_page)
    router.add_post("/products/bulk", bulk_save)
    router.add_get("/products/new", new_page)
    router.add_post("/products/new", create)
    router.add_get(r"/products/{id:\d+}", edit_page)
    router.add_post(r"/products/{id:\d+}", update)
    router.add_post(r"/products/{id:\d+}/status", shelve)


def staff_of(request: web.Request) -> Staff:
    staff = session_for(request).staff
    require(staff, Permission.PRODUCTS)
    return staff


@aiohttp_jinja2.template("products.html")
async def list_page(request: web.Request) -> dict[str, Any]:
    staff = staff_of(request)
    filters = _filters(request.query)
    listed = await backoffice.list_products(
        merchant_id=staff.merchant_id,
        text=filters["q"],
        status=ProductStatus(filters["status"]) if filters["status"] else None,
        category_id=int(filters["category"]) if filters["category"] else None,
        stock=backoffice.StockFilter(filters["stock"]),
        owner_id=int(filters["merchant"]) if filters["merchant"] else None,
        page=_number(request.query.get("page", "1"), default=1),
    )
    shown = {key: value for key, value in filters.items() if value}
    notice = NOTICES.get(request.query.get("notice", ""), "")
    return {
        "active": "products",
        "listed": listed,
        "filters": filters,
        "statuses": STATUS_TEXT,
        "stocks": STOCK_TEXT,
        "categories": await backoffice.category_choices(),
        "merchants": await list_merchants() if staff.merchant_id is None else [],
        "export_query": urlencode(shown),
        "back": urlencode({**shown, "page": listed.page}),
        "page_url": lambda page: "/admin/products?" + urlencode({**shown, "page": page}),
        "notice": notice.format(n=_number(request.query.get("n", "0"), default=0)),
        "yuan": fen_to_yuan,
    }


async def batch(request: web.Request) -> web.Response:
    """The list's buttons: shelve the ticked products (or the one whose button was pressed),
    or open the bulk edit page for them."""
    staff = staff_of(request)
    post = await request.post()
    back = _clean_back(str(post.get("back", "")))
    action, ids = str(post.get("do", "")), _ids(post.getall("id", []))
    for single in SHELF_ACTIONS:
        if str(post.get(f"{single}_one", "")).isdigit():
            action, ids = single, _ids([post[f"{single}_one"]])
    if not ids:
        raise web.HTTPFound(f"/admin/products?{back}&notice=empty")
    if action == "bulk_edit":
        raise web.HTTPFound("/admin/products/bulk?" + urlencode([("id", i) for i in ids]))
    if action not in SHELF_ACTIONS:
        raise CommonError.INVALID_REQUEST.error()
    changed = await backoffice.change_status(
        product_ids=ids, new_status=SHELF_ACTIONS[action], merchant_id=staff.merchant_id, actor=staff.actor
    )
    raise web.HTTPFound(f"/admin/products?{back}&notice={action}&n={changed}")


async def shelve(request: web.Request) -> web.Response:
    """The edit page's 上架 / 下架."""
    staff = staff_of(request)
    product_id = path_id(request)
    action = str((await request.post()).get("status", ""))
    if action not in SHELF_ACTIONS:
        raise CommonError.INVALID_REQUEST.error()
    await backoffice.change_status(
        product_ids=[product_id],
        new_status=SHELF_ACTIONS[action],
        merchant_id=staff.merchant_id,
        actor=staff.actor,
    )
    raise web.HTTPFound(f"/admin/products/{product_id}?notice={action}")


async def bulk_page(request: web.Request) -> web.Response:
    staff = staff_of(request)
    ids = _ids(request.query.getall("id", []))
    return await _render_bulk(request, staff, ids, typed={}, error="")


async def bulk_save(request: web.Request) -> web.Response:
    """Apply the bulk page: prices set, stock moved by typed minus seen, all in one go."""
    staff = staff_of(request)
    post = await request.post()
    ids = _ids(post.getall("id", []))
    typed, changes = _parse_bulk(post, _ids(post.getall("sku", [])))
    if any("error" in row for row in typed.values()):
        return await _render_bulk(
            request, staff, ids, typed=typed, error="有需要修改的地方，见标红的行", status=400
        )
    try:
        changed = await backoffice.bulk_update_skus(
            changes=changes, merchant_id=staff.merchant_id, actor=staff.actor
        )
    except CommerceError as error:
        if error.kind is ErrorKind.NOT_FOUND:
            raise
        sku_id = error.details.get("sku_id")
        if sku_id in typed:  # orders took stock meanwhile: show what is left now
            typed[sku_id].update(stock_seen=str(error.details["stock_now"]), error=error.message)
        return await _render_bulk(request, staff, ids, typed=typed, error=error.message, status=409)
    raise web.HTTPFound(f"/admin/products?notice=bulk&n={changed}")


async def _render_bulk(
    request: web.Request, staff: Staff, ids: list[int], *, typed: dict, error: str, status: int = 200
) -> web.Response:
    products = await backoffice.products_for_staff(product_ids=ids, merchant_id=staff.merchant_id)
    context = {
        "active": "products",
        "products": products,
        "typed": typed,
        "error": error,
        "yuan": fen_to_yuan,
    }
    return aiohttp_jinja2.render_template("products_bulk.html", request, context, status=status)


async def new_page(request: web.Request) -> web.Response:
    staff = staff_of(request)
    return await _render_form(request, staff, ProductForm(merchant_id=str(staff.merchant_id or "")), None)


async def edit_page(request: web.Request) -> web.Response:
    staff = staff_of(request)
    product = await backoffice.product_for_staff(product_id=path_id(request), merchant_id=staff.merchant_id)
    return await _render_form(request, staff, product_form.from_product(product), product)


async def create(request: web.Request) -> web.Response:
    return await _submit(request, staff_of(request), None)


async def update(request: web.Request) -> web.Response:
    staff = staff_of(request)
    product = await backoffice.product_for_staff(product_id=path_id(request), merchant_id=staff.merchant_id)
    return await _submit(request, staff, product)


async def _submit(
    request: web.Request, staff: Staff, product: backoffice.StaffProduct | None
) -> web.Response:
    """Every button of the form posts here: uploads are stored whichever it was; 生成规格表 and
    the image buttons re-render the form as typed; 保存 saves a valid form."""
    post = await request.post()
    form = product_form.from_post(post)
    if product is not None:  # code and merchant never change on an edit, whatever was posted
        form.spu_code, form.merchant_id = product.spu_code, str(product.merchant_id)
    elif staff.merchant_id is not None:  # a merchant's people create for their own merchant only
        form.merchant_id = str(staff.merchant_id)
    await product_form.store_uploads(request.app[CORE].settings, form, post)
    action = "" if product_form.apply_image_action(form, post) else str(post.get("do", ""))
    if action == "grid":
        form.regenerate_grid()
    if action != "save" or form.errors:
        return await _render_form(request, staff, form, product, status=400 if form.errors else 200)
    draft = await product_form.validated(form, staff=staff, creating=product is None)
    if draft is None:
        return await _render_form(request, staff, form, product, status=400)
    try:
        product_id = await backoffice.save_product(
            product=draft,
            product_id=product.id if product else None,
            merchant_id=staff.merchant_id,
            actor=staff.actor,
        )
    except CommerceError as error:
        if error.code == "product_not_found":
            raise
        product_form.place_error(form, error)
        return await _render_form(request, staff, form, product, status=409)
    raise web.HTTPFound(f"/admin/products/{product_id}?notice=saved")


async def _render_form(
    request: web.Request,
    staff: Staff,
    form: ProductForm,
    product: backoffice.StaffProduct | None,
    *,
    status: int = 200,
) -> web.Response:
    notice = {"saved": "已保存", **NOTICES}.get(request.query.get("notice", ""), "").format(n=1)
    context = {
        "active": "products",
        "form": form,
        "product": product,
        "categories": await backoffice.category_choices(),
        "may_type_category": staff.merchant_id is None,
        "merchants": await list_merchants() if staff.merchant_id is None and product is None else [],
        "statuses": STATUS_TEXT,
        "notice": notice if request.method == "GET" else "",
        "max_images": product_form.MAX_IMAGES,
    }
    return aiohttp_jinja2.render_template("product_form.html", request, context, status=status)


def _filters(query) -> dict[str, str]:
    """The list's filters, each either a value we know or empty (odd input is ignored)."""
    raw = {name: str(query.get(name, "")).strip() for name in FILTERS}
    return {
        "q": raw["q"][:64],
        "status": raw["status"] if raw["status"] in STATUS_TEXT else "",
        "category": raw["category"] if _is_id(raw["category"]) else "",
        "stock": raw["stock"] if raw["stock"] in STOCK_TEXT else "",
        "merchant": raw["merchant"] if _is_id(raw["merchant"]) else "",
    }


def _clean_back(back: str) -> str:
    """The list's query to return to, rebuilt from known filters only."""
    pairs = dict(parse_qsl(back[:1000]))
    kept = {key: value for key, value in _filters(pairs).items() if value}
    return urlencode({**kept, "page": _number(pairs.get("page", "1"), default=1)})


def _ids(values) -> list[int]:
    return list(dict.fromkeys(int(v) for v in values if isinstance(v, str) and _is_id(v)))[
        : backoffice.MAX_BULK * 10
    ]


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 12


def _number(value: str, *, default: int) -> int:
    return int(value) if _is_id(value) else default


def _parse_bulk(post, sku_ids: list[int]) -> tuple[dict[int, dict[str, str]], list[backoffice.SkuChange]]:
    """The bulk page's rows as typed (errors marked), and the changes of the valid ones."""
    typed: dict[int, dict[str, str]] = {}
    changes = []
    for sku_id in sku_ids:
        row = {
            name: str(post.get(f"{name}_{sku_id}", "")).strip()[:20]
            for name in ("price", "stock", "stock_seen")
        }
        typed[sku_id] = row
        try:
            price = yuan_to_fen(row["price"])
        except MoneyFormatError:
            row["error"] = "价格应为不小于 0、最多两位小数的金额"
            continue
        if not (_DIGITS.match(row["stock"]) and _DIGITS.match(row["stock_seen"])):
            row["error"] = "库存应为不小于 0 的整数"
            continue
        changes.append(backoffice.SkuChange(sku_id, price, int(row["stock"]), int(row["stock_seen"])))
    return typed, changes
