"""The product form as a plain object: read from what the page posted (so a re-render shows
exactly what was typed), the SKU grid derived from the spec axes, uploads, and the
ProductInput that a valid form becomes. The bulk page's rows too. Handlers live in
admin_web/products.py."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field, replace

from aiohttp.web import FileField
from multidict import MultiDictProxy

from commerce.catalog.backoffice import StaffProduct, category_choices, new_spu_code
from commerce.catalog.services import MAX_SKUS_PER_PRODUCT, ProductInput, SkuInput, ensure_category_path
from commerce.config import Settings
from commerce.errors import CommerceError
from commerce.media.services import store_product_image
from commerce.media.storage import open_storage
from commerce.merchants.services import list_merchants
from commerce.money import MoneyFormatError, fen_to_yuan, yuan_to_fen
from commerce.staff.auth import Staff

MAX_AXES = 3
MAX_VALUES = 20  # values of one axis
MAX_SKUS = MAX_SKUS_PER_PRODUCT
MAX_IMAGES = 15
_SEPARATORS = re.compile(r"[,，、;；\r\n]+")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_DIGITS = re.compile(r"^[0-9]{1,9}$")
_PATH_SEPARATORS = re.compile(r"\s*[/>＞／]\s*")
# Where a core refusal is shown on the form.
_ERROR_FIELDS = {
    "spu_code_taken": "spu_code",
    "sku_code_taken": "skus",
    "invalid_stock": "skus",
    "category_not_found": "category",
    "invalid_category": "category",
}


@dataclass
class Axis:
    name: str = ""
    values_text: str = ""  # as typed: values separated by commas, 、 or new lines

    @property
    def values(self) -> list[str]:
        return list(dict.fromkeys(v.strip() for v in _SEPARATORS.split(self.values_text) if v.strip()))


@dataclass
class SkuRow:
    combo: tuple[str, ...]  # one value per axis, in axis order
    sku_code: str = ""
    price: str = ""  # yuan, as typed
    market_price: str = ""
    stock: str = "0"
    stock_seen: str = ""  # the stock the page showed; "" for a SKU not saved yet
    weight: str = ""  # grams
    error: str = ""

    @property
    def combo_json(self) -> str:
        return json.dumps(list(self.combo), ensure_ascii=False)

    @property
    def label(self) -> str:
        return " / ".join(self.combo) or "默认规格"


@dataclass
class ProductForm:
    title: str = ""
    subtitle: str = ""
    description: str = ""
    spu_code: str = ""
    category_id: str = ""
    new_category: str = ""  # a typed path like 数码/手机/5G手机 (platform only)
    merchant_id: str = ""
    images: list[str] = field(default_factory=list)
    axes: list[Axis] = field(default_factory=lambda: [Axis() for _ in range(MAX_AXES)])
    rows: list[SkuRow] = field(default_factory=lambda: [SkuRow(())])
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def axis_names(self) -> list[str]:
        return [axis.name.strip() for axis in self.axes if axis.name.strip()]

    def combos(self) -> list[tuple[str, ...]]:
        filled = [axis.values for axis in self.axes if axis.name.strip()]
        return list(itertools.product(*filled))

    def check_axes(self) -> bool:
        problems = []
        for number, axis in enumerate(self.axes, start=1):
            name, values = axis.name.strip(), axis.values
            if not name and values:
                problems.append(f"第 {number} 个规格项缺少名称")
            elif name and not values:
                problems.append(f"规格项「{name}」至少要有一个取值")
            elif len(name) > 20 or any(len(v) > 30 for v in values):
                problems.append(f"规格项「{name[:20]}」：名称最长 20 字，取值最长 30 字")
            elif len(values) > MAX_VALUES:
                problems.append(f"规格项「{name}」最多 {MAX_VALUES} 个取值")
        if len(set(self.axis_names)) != len(self.axis_names):
            problems.append("规格项名称不能重复")
        if not problems and len(self.combos()) > MAX_SKUS:
            problems.append(f"规格组合最多 {MAX_SKUS} 个")
        if problems:
            self.errors["axes"] = "；".join(problems)
        return not problems

    def regenerate_grid(self) -> None:
        """One row per combination of the axes' values, keeping what was typed for
        combinations that still exist."""
        if not self.check_axes():
            return
        typed = {row.combo: row for row in self.rows}
        self.rows = [typed.get(combo) or SkuRow(combo) for combo in self.combos()]

    def grid_matches(self) -> bool:
        return [row.combo for row in self.rows] == self.combos()


def from_product(product: StaffProduct) -> ProductForm:
    """The form for editing a product as it is now."""
    axes = [Axis(a["name"], "、".join(a["values"])) for a in product.spec_axes[:MAX_AXES]]
    names = [a["name"] for a in product.spec_axes]
    rows = [
        SkuRow(
            combo=tuple(sku.specs.get(name, "") for name in names),
            sku_code=sku.sku_code,
            price=fen_to_yuan(sku.price),
            market_price=fen_to_yuan(sku.market_price) if sku.market_price else "",
            stock=str(sku.stock),
            stock_seen=str(sku.stock),
            weight=str(sku.weight_g) if sku.weight_g else "",
        )
        for sku in product.skus
    ]
    return ProductForm(
        title=product.title,
        subtitle=product.subtitle,
        description=product.description,
        spu_code=product.spu_code,
        category_id=str(product.category_id),
        merchant_id=str(product.merchant_id),
        images=list(product.images),
        axes=axes + [Axis() for _ in range(MAX_AXES - len(axes))],
        rows=rows or [SkuRow(())],
    )


def from_post(post: MultiDictProxy) -> ProductForm:
    """The form as posted, whatever was posted (odd values are kept to be shown and judged)."""

    def text(name: str, limit: int = 200) -> str:
        value = post.get(name, "")
        return value.strip()[:limit] if isinstance(value, str) else ""

    rows = []
    for i in range(MAX_SKUS):
        combo = _combo(post.get(f"sku_combo_{i}"))
        if combo is None:
            break
        rows.append(
            SkuRow(
                combo=combo,
                sku_code=text(f"sku_code_{i}", 64),
                price=text(f"price_{i}", 20),
                market_price=text(f"market_price_{i}", 20),
                stock=text(f"stock_{i}", 12),
                stock_seen=text(f"stock_seen_{i}", 12),
                weight=text(f"weight_{i}", 12),
            )
        )
    images = [url for url in post.getall("image", []) if isinstance(url, str) and _is_image_url(url)]
    return ProductForm(
        title=text("title", 200),
        subtitle=text("subtitle", 300),
        description=text("description", 20000),
        spu_code=text("spu_code", 80),
        category_id=text("category_id", 12),
        new_category=text("new_category", 200),
        merchant_id=text("merchant_id", 12),
        images=list(dict.fromkeys(images))[:MAX_IMAGES],
        axes=[Axis(text(f"axis_name_{i}", 40), text(f"axis_values_{i}", 1000)) for i in range(MAX_AXES)],
        rows=rows or [SkuRow(())],
    )


def apply_image_action(form: ProductForm, post: MultiDictProxy) -> bool:
    """Move an image first ("设为主图") or one place forward ("前移"), or remove it, when one of
    those buttons was pressed."""
    for action in ("image_first", "image_left", "image_remove"):
        raw = post.get(action, "")
        if isinstance(raw, str) and _DIGITS.match(raw) and int(raw) < len(form.images):
            index = int(raw)
            url = form.images.pop(index)
            if action != "image_remove":
                form.images.insert(0 if action == "image_first" else max(index - 1, 0), url)
            return True
    return False


def to_input(form: ProductForm, *, spu_code: str, category_id: int, merchant_id: int) -> ProductInput | None:
    """The ProductInput of a valid form; None with form.errors (and row errors) filled in."""
    if not form.title:
        form.errors["title"] = "请填写商品标题"
    elif len(form.title) > 120:
        form.errors["title"] = "商品标题最长 120 个字"
    if len(form.subtitle) > 200:
        form.errors["subtitle"] = "副标题最长 200 个字"
    if len(form.description) > 10000:
        form.errors["description"] = "商品描述最长 10000 个字"
    if form.spu_code and not _CODE.match(form.spu_code):
        form.errors["spu_code"] = "商品编码只能用字母、数字和 - _ .，最长 64 位"
    axes_ok = form.check_axes()
    if axes_ok and not form.grid_matches():
        form.regenerate_grid()
        form.errors["axes"] = "规格项已修改，已重新生成规格表，请填写后再保存"
    if not axes_ok:  # the grid cannot be read against axes that are wrong: fix those first
        return None
    skus = [_sku_of(row, form.axis_names) for row in form.rows]
    codes = [row.sku_code for row in form.rows if row.sku_code]
    for row in form.rows:
        if row.sku_code and codes.count(row.sku_code) > 1:
            row.error = "；".join(filter(None, [row.error, "SKU 编码重复"]))
    if any(row.error for row in form.rows):
        form.errors["skus"] = "规格表有需要修改的地方，见下方标红的行"
    if form.errors:
        return None
    return ProductInput(
        spu_code=spu_code,
        title=form.title,
        subtitle=form.subtitle,
        description=form.description,
        category_id=category_id,
        merchant_id=merchant_id,
        images=tuple(form.images),
        skus=_with_codes([sku for sku in skus if sku is not None], spu_code),
    )


def _sku_of(row: SkuRow, axis_names: list[str]) -> SkuInput | None:
    problems = []
    price = market_price = 0
    try:
        price = yuan_to_fen(row.price) if row.price else -1
        market_price = yuan_to_fen(row.market_price) if row.market_price else 0
    except MoneyFormatError:
        problems.append("价格应为不小于 0、最多两位小数的金额，如 59.90")
    if price < 0 and not problems:
        problems.append("请填写价格")
    if not _DIGITS.match(row.stock or "0"):
        problems.append("库存应为不小于 0 的整数")
    if row.stock_seen and not _DIGITS.match(row.stock_seen):
        problems.append("页面已过期，请刷新后重试")
    if row.weight and not _DIGITS.match(row.weight):
        problems.append("重量应为整数（克）")
    if row.sku_code and not _CODE.match(row.sku_code):
        problems.append("SKU 编码只能用字母、数字和 - _ .，最长 64 位")
    row.error = "；".join(problems)
    if problems:
        return None
    return SkuInput(
        sku_code=row.sku_code,
        specs=dict(zip(axis_names, row.combo, strict=True)),
        price=price,
        market_price=market_price,
        stock=int(row.stock or "0"),
        weight_g=int(row.weight or "0"),
        stock_seen=int(row.stock_seen) if row.stock_seen else None,
    )


def _with_codes(skus: list[SkuInput], spu_code: str) -> list[SkuInput]:
    """SKUs left without a code get {spu_code}-01, -02... (ones not already taken here)."""
    taken = {sku.sku_code for sku in skus if sku.sku_code}
    numbers = (n for n in itertools.count(1) if f"{spu_code}-{n:02d}" not in taken)
    return [sku if sku.sku_code else replace(sku, sku_code=f"{spu_code}-{next(numbers):02d}") for sku in skus]


def _combo(raw: object) -> tuple[str, ...] | None:
    # At most three values of 30 characters: anything longer (or nested deep) is not parsed.
    if not isinstance(raw, str) or len(raw) > 300:
        return None
    try:
        values = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(values, list) or len(values) > MAX_AXES:
        return None
    if not all(isinstance(v, str) and len(v) <= 30 for v in values):
        return None
    return tuple(values)


def _is_image_url(url: str) -> bool:
    return url.startswith(("https://", "http://")) and len(url) <= 500 and not any(c.isspace() for c in url)


async def validated(form: ProductForm, *, staff: Staff, creating: bool) -> ProductInput | None:
    """The form's ProductInput, category and merchant resolved; None with form.errors."""
    categories = {option_id for option_id, _ in await category_choices()}
    category_id = int(form.category_id) if _DIGITS.match(form.category_id) else 0
    names = [name for name in _PATH_SEPARATORS.split(form.new_category) if name]
    if form.new_category and staff.merchant_id is not None:
        form.errors["category"] = "只有平台可以新建分类，请从列表中选择"
    elif not names and category_id not in categories:
        form.errors["category"] = "请选择商品分类"
    merchant_id = int(form.merchant_id) if _DIGITS.match(form.merchant_id) else 0
    if creating and staff.merchant_id is None and merchant_id not in {m.id for m in await list_merchants()}:
        form.errors["merchant"] = "请选择所属商家"
    spu_code = form.spu_code or (new_spu_code() if creating else "")
    product = to_input(form, spu_code=spu_code, category_id=category_id, merchant_id=merchant_id)
    if product is None or form.errors:
        return None
    if names and staff.merchant_id is None:  # created only once everything else is valid
        try:
            product = replace(product, category_id=await ensure_category_path(names=names))
        except CommerceError as error:
            form.errors["category"] = f"{error.message}（如：数码/手机/5G手机）"
            return None
    return product


def place_error(form: ProductForm, error: CommerceError) -> None:
    """Show a refusal of the core next to what it is about."""
    form.errors[_ERROR_FIELDS.get(error.code, "form")] = error.message
    if "stock_now" in error.details:  # orders took stock meanwhile: show what is left now
        for row in form.rows:
            if row.sku_code == error.details.get("sku_code"):
                row.stock_seen, row.error = str(error.details["stock_now"]), error.message


async def store_uploads(settings: Settings, form: ProductForm, post: MultiDictProxy) -> None:
    """Store the files chosen in the upload field and add their URLs to the form's images."""
    files = [f for f in post.getall("upload", []) if isinstance(f, FileField) and f.filename]
    if not files:
        return
    problems = []
    async with open_storage(settings) as storage:
        for upload in files:
            if len(form.images) >= MAX_IMAGES:
                problems.append(f"最多 {MAX_IMAGES} 张图片")
                break
            data = upload.file.read(settings.media_max_bytes + 1)
            try:
                url = await store_product_image(
                    storage=storage, data=data, max_bytes=settings.media_max_bytes
                )
            except CommerceError as error:
                problems.append(f"{upload.filename[:60]}：{error.message}")
                continue
            if url not in form.images:
                form.images.append(url)
    if problems:
        form.errors["images"] = "；".join(problems)
