"""Tortoise configuration: a SQLite file by default, MySQL (or MariaDB, TiDB) by DATABASE_URL."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from enum import Enum
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url

from commerce.config import Settings

FOUND_ROWS = 2  # the MySQL protocol's CLIENT_FOUND_ROWS capability flag
ISOLATION = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"
CLOSE_GRACE_SECONDS = 5.0

log = logging.getLogger(__name__)

# Every module that declares models; one Tortoise app keeps cross-context relations simple.
MODEL_MODULES = [
    "commerce.outbox",
    "commerce.merchants.models",
    "commerce.catalog.models",
    "commerce.users.models",
    "commerce.staff.models",
    "commerce.cart.models",
    "commerce.orders.models",
    "commerce.payments.models",
    "commerce.aftersales.models",
    "commerce.support.models",
    "commerce.audit.models",
    "commerce.shipping.models",
    "commerce.jobs.models",
    "commerce.fulfilment.models",
    "commerce.ledger.models",
    "commerce.payouts.models",
    "commerce.reconciliation.models",
    "commerce.settlement.models",
    "commerce.groupbuy.models",
    "commerce.community.models",
    "commerce.community.commission_models",
    "commerce.referrals.models",
    "commerce.referrals.commission_models",
]
APP_LABEL = "models"
MIGRATIONS_MODULE = "commerce.migrations"


DEFAULT_POOL_MAX = 20  # Settings.database_pool_max's default; a maxsize in the URL wins over both


def tortoise_config(database_url: str, *, pool_max: int = DEFAULT_POOL_MAX) -> dict[str, Any]:
    url = database_url
    if url.startswith("mysql://"):
        # utf8mb4 for Chinese and emoji; a pool wide enough for concurrent checkouts (per
        # process: N workers hold up to N x pool_max connections).
        for option, value in (("charset", "utf8mb4"), ("maxsize", str(pool_max))):
            if f"{option}=" not in url:
                url += ("&" if "?" in url else "?") + f"{option}={value}"
    connection: str | dict[str, Any] = url
    if url.startswith("mysql://"):
        # An UPDATE counts the rows it matched, not only those it changed (as SQLite does):
        # a conditional update that sets a value already there still proves it found its row.
        connection = expand_db_url(url)
        connection["credentials"]["client_flag"] = FOUND_ROWS
        # READ COMMITTED on every connection (README, "Transactions on MySQL"): no gap locks
        # between strangers' rows; our writes are conditional updates, which re-read the row.
        connection["credentials"]["init_command"] = ISOLATION
    return {
        "connections": {"default": connection},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def init_db(settings: Settings) -> None:
    """Connect; the context is global so that every request task sees it."""
    await Tortoise.init(
        config=tortoise_config(settings.resolved_database_url, pool_max=settings.database_pool_max),
        _enable_global_fallback=True,
    )


async def close_db(grace_seconds: float = CLOSE_GRACE_SECONDS) -> None:
    """Close the pools. A MySQL pool waits for every connection lent out to come back; one held
    by a task that never gives it back (stuck, or abandoned) would hold the process's exit
    forever. After the grace those connections are cut and the close completes."""
    closing = asyncio.ensure_future(Tortoise.close_connections())
    await asyncio.wait({closing}, timeout=grace_seconds)
    if not closing.done():
        cut = sum(_cut_lent_connections(client) for client in connections.all())
        log.warning("database close: cut %d connections not given back within %ss", cut, grace_seconds)
    await closing


def _cut_lent_connections(client: Any) -> int:
    pool = getattr(client, "_pool", None)  # the MySQL client's asyncmy pool; SQLite has none
    if pool is None:
        return 0
    lent = len(pool._used)
    pool.terminate()  # closes the lent connections too, and wakes the pending close
    return lent


def is_mysql(database_url: str) -> bool:
    return database_url.startswith("mysql://")


# For `tortoise -c commerce.db.TORTOISE_ORM makemigrations` (`make migrations`): detecting
# model changes needs the models and the migration files, not a real database.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")


async def fetch_rows(sql: str, values: list[Any], *, connection: Any = None) -> list[dict[str, Any]]:
    """Run a hand-written SELECT; `?` marks each parameter.

    For the few statements on the hottest paths (checkout, ordering), where building them
    through the ORM costs more CPU than running them. Keep the SQL portable (MySQL and SQLite
    both read backquoted names); JSON columns come back as text.
    """
    conn, sql = _portable(sql, connection)
    return list(await conn.execute_query_dict(sql, values))


async def execute(sql: str, values: list[Any], *, connection: Any = None) -> int:
    """Run a hand-written UPDATE (see fetch_rows); the number of rows it changed."""
    conn, sql = _portable(sql, connection)
    changed, _ = await conn.execute_query(sql, values)
    return changed


async def insert(table: str, row: dict[str, Any], *, connection: Any = None) -> int:
    """Insert one row written out in full (see fetch_rows: no model defaults apply); its new
    id. Dicts and lists are stored as JSON."""
    columns = ", ".join(f"`{name}`" for name in row)
    marks = ", ".join("?" for _ in row)
    values = [json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for v in row.values()]
    conn, sql = _portable(f"INSERT INTO `{table}` ({columns}) VALUES ({marks})", connection)
    return await conn.execute_insert(sql, values)


async def insert_many(table: str, rows: list[dict[str, Any]], *, connection: Any = None) -> None:
    """Insert rows with the same columns in one statement (see insert)."""
    if not rows:
        return
    names = list(rows[0])
    marks = "(" + ", ".join("?" for _ in names) + ")"
    values = [
        json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
        for row in rows
        for v in (row[name] for name in names)
    ]
    columns = ", ".join(f"`{name}`" for name in names)
    sql = f"INSERT INTO `{table}` ({columns}) VALUES {', '.join(marks for _ in rows)}"
    conn, sql = _portable(sql, connection)
    await conn.execute_query(sql, values)


def model_row(model: type, values: dict[str, Any]) -> dict[str, Any]:
    """A full row for a hand-written INSERT into the model's table, built from the model's
    fields: a column not given takes the field's default (or NULL where allowed); a column
    with neither is a KeyError, so a new column cannot be forgotten silently. Enums become
    their values; the generated primary key is left out."""
    columns, names = _insert_columns(model)
    row: dict[str, Any] = {}
    for name, column, default, null in columns:
        if name in values:
            value = values[name]
        elif default is not None:
            value = default() if callable(default) else default
        elif null:
            value = None
        else:
            raise KeyError(f"{model._meta.db_table}.{column} has no value and no default")  # type: ignore[attr-defined]
        row[column] = value.value if isinstance(value, Enum) else value
    if unknown := set(values) - names:
        raise KeyError(f"{model._meta.db_table} has no column {sorted(unknown)[0]}")  # type: ignore[attr-defined]
    return row


@functools.cache
def _insert_columns(model: type) -> tuple[tuple[tuple[str, str, Any, bool], ...], frozenset[str]]:
    """(field, column, default, nullable) of every column an INSERT writes, and the field
    names: read from the model's meta once (model_row runs for every row of every order)."""
    meta = model._meta  # type: ignore[attr-defined]
    columns = tuple(
        (name, column, meta.fields_map[name].default, meta.fields_map[name].null)
        for name, column in meta.fields_db_projection.items()
        if not (meta.fields_map[name].pk and meta.fields_map[name].generated)
    )
    return columns, frozenset(meta.fields_db_projection)


def _portable(sql: str, connection: Any) -> tuple[Any, str]:
    conn = connection or Tortoise.get_connection("default")
    return conn, sql.replace("?", "%s") if conn.capabilities.dialect == "mysql" else sql
