"""`shop export` / `shop import`: every table's rows as JSON lines, to move a shop from one
database to another (SQLite to MySQL, one MySQL to another) at the same release.

The file: a header line (format, version, each table's columns), then one line per row,
`{"table": ..., "row": {field: value}}`. Rows keep their ids, so every reference between them
still holds. Values are written by their field's type (datetimes as ISO 8601 in UTC, decimals
as strings, bytes as base64) and read back by the same type, so the file does not depend on
how either database stores them.

Import goes into a database that `shop migrate` brought to the same schema and that holds no
rows yet, in one transaction with foreign-key checks off (tables arrive in dependency order,
but a table that refers to itself, such as a category's parent, need not be in id order).
MySQL and SQLite both move a table's next id past the highest id inserted, so new rows after
the import never collide with imported ones.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from tortoise import Tortoise, fields

from commerce.config import Settings
from commerce.db import APP_LABEL, close_db, init_db, is_mysql
from commerce.transactions import unit_of_work, write_transaction

FORMAT = "wechat-shop-export"
VERSION = 1
CHUNK = 1000  # rows read per query, and written per INSERT


class TransferError(RuntimeError):
    """The file or the target database cannot take part in this transfer; the message says why."""


@dataclass(frozen=True)
class TransferReport:
    tables: int
    rows: int


def models_in_dependency_order() -> list[type]:
    """Every model, each after the models it refers to (a self-reference does not count)."""
    models = sorted(Tortoise.apps[APP_LABEL].values(), key=lambda m: m._meta.db_table)
    placed: dict[type, None] = {}

    def place(model: type, path: tuple[type, ...]) -> None:
        if model in placed or model in path:  # a cycle falls back to the checks being off
            return
        for name in sorted(model._meta.fk_fields | model._meta.o2o_fields):  # sets: hash order
            related = model._meta.fields_map[name].related_model
            if related is not model:
                place(related, (*path, model))
        placed[model] = None

    for model in models:
        place(model, ())
    return list(placed)


def _columns(model: type) -> list[str]:
    """The model's stored fields by name (a relation by its `…_id` field)."""
    return list(model._meta.fields_db_projection)


async def export_database(settings: Settings, out: IO[str]) -> TransferReport:
    await init_db(settings)
    try:
        models = models_in_dependency_order()
        header = {
            "format": FORMAT,
            "version": VERSION,
            "columns": {m._meta.db_table: _columns(m) for m in models},
        }
        out.write(json.dumps(header, ensure_ascii=False) + "\n")
        rows = 0
        for model in models:
            names = _columns(model)
            kinds = [model._meta.fields_map[n] for n in names]
            pk = model._meta.pk_attr
            last: Any = None
            while True:
                query = model.all().order_by(pk).limit(CHUNK)
                if last is not None:
                    query = query.filter(**{f"{pk}__gt": last})
                chunk = await query
                for obj in chunk:
                    row = {n: _encode(f, getattr(obj, n)) for n, f in zip(names, kinds, strict=True)}
                    line = {"table": model._meta.db_table, "row": row}
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
                rows += len(chunk)
                if len(chunk) < CHUNK:
                    break
                last = getattr(chunk[-1], pk)
        return TransferReport(tables=len(models), rows=rows)
    finally:
        await close_db()


async def import_database(settings: Settings, path: Path) -> TransferReport:
    await init_db(settings)
    try:
        by_table = {m._meta.db_table: m for m in models_in_dependency_order()}
        with path.open(encoding="utf-8") as lines:
            _check_header(lines.readline(), by_table)
        for model in by_table.values():
            if await model.all().exists():
                raise TransferError(
                    f"目标数据库不是空的（{model._meta.db_table} 已有数据）："
                    "请导入到刚执行过 shop migrate 的新数据库"
                )
        with _timestamps_kept(by_table.values()):
            return await _load(path, by_table)
    finally:
        await close_db()


@unit_of_work
async def _load(path: Path, by_table: dict[str, type]) -> TransferReport:
    """Every row of the file in one transaction (read again from the top if it is re-run)."""
    rows, tables = 0, set()
    with path.open(encoding="utf-8") as lines:
        lines.readline()  # the header, checked already
        async with write_transaction() as conn:
            mysql = conn.capabilities.dialect == "mysql"
            # Off for this transaction only: SQLite checks at commit, MySQL not at all
            # (every id comes from a database that checked them).
            if mysql:
                await conn.execute_script("SET FOREIGN_KEY_CHECKS=0")
            else:
                await conn.execute_script("PRAGMA defer_foreign_keys=ON")
            pending: dict[type, list[Any]] = {}
            for number, raw in enumerate(lines, start=2):
                if not raw.strip():
                    continue
                item = json.loads(raw)
                model = by_table.get(item.get("table"))
                if model is None:
                    raise TransferError(f"第 {number} 行: 未知的表 {item.get('table')!r}")
                batch = pending.setdefault(model, [])
                batch.append(model(**_decoded(model, item["row"])))
                if len(batch) >= CHUNK:
                    await model.bulk_create(batch, using_db=conn)
                    rows += len(batch)
                    batch.clear()
                tables.add(model)
            for model, batch in pending.items():
                if batch:
                    await model.bulk_create(batch, using_db=conn)
                    rows += len(batch)
            if mysql:
                await conn.execute_script("SET FOREIGN_KEY_CHECKS=1")
    return TransferReport(tables=len(tables), rows=rows)


def database_kind(settings: Settings) -> str:
    return "MySQL" if is_mysql(settings.resolved_database_url) else "SQLite"


def _check_header(line: str, by_table: dict[str, type]) -> None:
    try:
        header = json.loads(line)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise TransferError("这不是 shop export 导出的文件")
    if header.get("version") != VERSION:
        raise TransferError(f"不支持的导出格式版本 {header.get('version')}")
    ours = {table: _columns(model) for table, model in by_table.items()}
    if header["columns"] != ours:
        differ = sorted(
            t for t in set(ours) | set(header["columns"]) if ours.get(t) != header["columns"].get(t)
        )
        raise TransferError(
            "导出文件与本数据库的结构不同（" + "、".join(differ[:5]) + "）："
            "请在同一版本下导出和导入，两边都先执行 shop migrate"
        )


@contextmanager
def _timestamps_kept(models: Any) -> Iterator[None]:
    """Keep the file's created/updated times: auto_now fields would stamp the import's time.
    (This process does nothing but import, so changing the fields' flags for its duration is
    safe.)"""
    changed = []
    for model in models:
        for field in model._meta.fields_map.values():
            if isinstance(field, fields.DatetimeField) and (field.auto_now or field.auto_now_add):
                changed.append((field, field.auto_now, field.auto_now_add))
                field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in changed:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def _encode(field: fields.Field, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value // dt.timedelta(microseconds=1)
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value  # str, int, float, bool, and a JSON field's dicts and lists


def _decoded(model: type, row: dict[str, Any]) -> dict[str, Any]:
    fields_map = model._meta.fields_map
    return {name: _decode(fields_map[name], value) for name, value in row.items()}


def _decode(field: fields.Field, value: Any) -> Any:
    if value is None:
        return None
    enum_type = getattr(field, "enum_type", None)
    if enum_type is not None:
        return enum_type(value)
    if isinstance(field, fields.DatetimeField):
        return dt.datetime.fromisoformat(value)
    if isinstance(field, fields.DateField):
        return dt.date.fromisoformat(value)
    if isinstance(field, fields.TimeField):
        return dt.time.fromisoformat(value)
    if isinstance(field, fields.TimeDeltaField):
        return dt.timedelta(microseconds=value)
    if isinstance(field, fields.DecimalField):
        return Decimal(value)
    if isinstance(field, fields.UUIDField):
        return UUID(value)
    if isinstance(field, fields.BinaryField):
        return base64.b64decode(value)
    return value
