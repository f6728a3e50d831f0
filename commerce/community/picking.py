"""Picking lists: what the warehouse packs for a batch (a line per order and SKU, the shopper
masked, the pickup code once the batch arrived) and the totals per SKU (per batch, and across a
sale's batches); as CSV (UTF-8 with a BOM, for Excel) and .xlsx. Units refunded before
picking are not packed."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass

from commerce.catalog.catalog_file import guard_cell
from commerce.community import batches
from commerce.community.batches import BatchView
from commerce.community.models import Batch, CommunityOrder
from commerce.fulfilment import queries as fulfilment
from commerce.orders import queries as orders
from commerce.payouts.services import mask_name
from commerce.users.services import mask_phone


@dataclass(frozen=True)
class PickLine:
    order_no: str
    shopper: str  # masked name
    phone: str  # masked
    sku_id: int
    title: str
    specs: str
    quantity: int
    pickup_code: str  # once the batch arrived


@dataclass(frozen=True)
class SkuTotal:
    sku_id: int
    title: str
    specs: str
    quantity: int


@dataclass(frozen=True)
class PickingList:
    batch: BatchView
    point_name: str
    point_address: str
    lines: list[PickLine]
    totals: list[SkuTotal]


async def picking_list(*, batch_id: int, merchant_id: int | None) -> PickingList:
    """A batch's picking list, as staff of the platform (or of the sale's merchant) see it."""
    batch = await batches.staff_batch(batch_id=batch_id, merchant_id=merchant_id)
    return await _picking_list(batch)


async def leader_picking_list(*, leader_id: int, batch_id: int) -> PickingList:
    """The leader's own batch's orders (another leader's batch: not found)."""
    return await _picking_list(await batches.leader_batch(leader_id=leader_id, batch_id=batch_id))


async def _picking_list(batch: BatchView) -> PickingList:
    order_ids = list(
        await CommunityOrder.filter(batch_id=batch.id).order_by("id").values_list("order_id", flat=True)
    )
    return PickingList(
        batch=batch,
        point_name=(point := await _point(batch.pickup_point_id))[0],
        point_address=point[1],
        lines=(lines := await _lines(order_ids)),
        totals=totals_of(lines),
    )


async def _point(point_id: int) -> tuple[str, str]:
    point = await fulfilment.staff_point(point_id=point_id, merchant_id=None)
    return point.name, point.address


async def _lines(order_ids: list[int]) -> list[PickLine]:
    ready = await fulfilment.fulfilments_of(order_ids)
    facts_of = await orders.orders_facts(order_ids)
    lines_of = await orders.lines_of_orders(order_ids)
    lines = []
    for order_id in order_ids:
        facts = facts_of.get(order_id)
        if facts is None:
            continue
        found = ready.get(order_id)
        code = found.pickup_code if found is not None else ""
        name = str(facts.address.get("receiver_name", ""))
        phone = str(facts.address.get("phone", ""))
        for line in lines_of.get(order_id, []):
            if line.units_left <= 0:
                continue
            lines.append(
                PickLine(
                    order_no=facts.order_no,
                    shopper=mask_name(name) if name else "",
                    phone=mask_phone(phone),
                    sku_id=line.sku_id,
                    title=line.title,
                    specs=" ".join(f"{k}:{v}" for k, v in line.specs.items()),
                    quantity=line.units_left,
                    pickup_code=code,
                )
            )
    return lines


def totals_of(lines: list[PickLine]) -> list[SkuTotal]:
    quantities: dict[int, int] = defaultdict(int)
    first: dict[int, PickLine] = {}
    for line in lines:
        quantities[line.sku_id] += line.quantity
        first.setdefault(line.sku_id, line)
    return [SkuTotal(sku, first[sku].title, first[sku].specs, quantities[sku]) for sku in sorted(quantities)]


async def sale_totals(*, sale_id: int, merchant_id: int | None) -> list[SkuTotal]:
    """Per SKU across all of a sale's batches (what the warehouse takes off its shelves)."""
    lines = []
    for batch_id in await Batch.filter(sale_id=sale_id).order_by("id").values_list("id", flat=True):
        lines += (await picking_list(batch_id=batch_id, merchant_id=merchant_id)).lines
    return totals_of(lines)


LINE_COLUMNS = ("订单号", "提货人", "手机号", "SKU ID", "商品", "规格", "数量", "提货码")
TOTAL_COLUMNS = ("SKU ID", "商品", "规格", "合计数量")


def _head(found: PickingList) -> list[list[object]]:
    b = found.batch
    return [
        ["批次", b.id],
        ["社区团购", b.sale_title],
        ["自提点", f"{found.point_name}（{found.point_address}）"],
        ["订单数", b.order_count],
    ]


def _sections(found: PickingList) -> list[list[object]]:
    return [
        *_head(found),
        [],
        list(LINE_COLUMNS),
        *[
            [x.order_no, x.shopper, x.phone, x.sku_id, x.title, x.specs, x.quantity, x.pickup_code]
            for x in found.lines
        ],
        [],
        list(TOTAL_COLUMNS),
        *[[t.sku_id, t.title, t.specs, t.quantity] for t in found.totals],
    ]


def _cell(value: object) -> object:
    return guard_cell(value) if isinstance(value, str) else value


def picking_csv(found: PickingList) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _sections(found):
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def picking_xlsx(found: PickingList) -> bytes:
    """Two sheets: 拣货单 (a row per order line) and SKU汇总 (totals per SKU)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def clean(value: object) -> object:
        return ILLEGAL_CHARACTERS_RE.sub("", _cell(value)) if isinstance(value, str) else value

    workbook = Workbook(write_only=True)
    lines = workbook.create_sheet("拣货单")
    for row in [*_head(found), [], list(LINE_COLUMNS)]:
        lines.append([clean(v) for v in row])
    for x in found.lines:
        lines.append(
            [
                clean(v)
                for v in (
                    x.order_no,
                    x.shopper,
                    x.phone,
                    x.sku_id,
                    x.title,
                    x.specs,
                    x.quantity,
                    x.pickup_code,
                )
            ]
        )
    totals = workbook.create_sheet("SKU汇总")
    totals.append(list(TOTAL_COLUMNS))
    for t in found.totals:
        totals.append([clean(v) for v in (t.sku_id, t.title, t.specs, t.quantity)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
