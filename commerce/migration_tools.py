"""Help for migrations where Tortoise's own operations fall short.

On SQLite an AlterField rebuilds the table and drops its indexes (unique ones too); on MySQL an
AddField with db_index creates none. A migration that does either ends with
`ops.RunPython(restore_indexes({...}), ops.RunPython.noop)`, naming the indexes the models
declare on those tables: whatever is missing is created, what survived is left alone.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from tortoise.migrations import operations as ops

# table -> [(columns, unique)]
IndexList = dict[str, list[tuple[list[str], bool]]]


def restore_indexes(indexes: IndexList) -> Callable[[Any, Any], Awaitable[None]]:
    async def restore(apps: Any, schema_editor: Any) -> None:
        client = schema_editor.client
        mysql = client.capabilities.dialect == "mysql"
        for table, wanted in indexes.items():
            present = await _indexes(client, table, mysql)
            for columns, unique in wanted:
                if (tuple(columns), unique) in present:
                    continue
                name = ("uid_" if unique else "idx_") + table + "_" + "_".join(columns)
                cols = ", ".join(f"`{c}`" for c in columns)
                await client.execute_script(
                    f"CREATE {'UNIQUE ' if unique else ''}INDEX `{name[:64]}` ON `{table}` ({cols})"
                )

    return restore


async def _indexes(client: Any, table: str, mysql: bool) -> set[tuple[tuple[str, ...], bool]]:
    if mysql:
        _, rows = await client.execute_query(
            "SELECT index_name AS index_name, non_unique AS non_unique,"
            " GROUP_CONCAT(column_name ORDER BY seq_in_index) AS cols"
            " FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = %s"
            " GROUP BY index_name, non_unique",
            [table],
        )
        return {(tuple(row["cols"].split(",")), not row["non_unique"]) for row in rows}
    _, rows = await client.execute_query(f'PRAGMA index_list("{table}")')
    found = set()
    for row in rows:
        _, cols = await client.execute_query(f'PRAGMA index_info("{row["name"]}")')
        found.add((tuple(str(c["name"]) for c in cols), bool(row["unique"])))
    return found


class AlterField(ops.AlterField):
    """Tortoise's AlterField, speaking MySQL's own syntax for a new column type there.

    Tortoise 1.x sends PostgreSQL's `ALTER COLUMN … TYPE`, which MySQL and MariaDB refuse; on
    SQLite it rebuilds the table (then restore its indexes with restore_indexes).
    """

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None or state_editor.client.capabilities.dialect != "mysql":
            await super().database_forward(app_label, old_state, new_state, state_editor)
            return
        model = new_state.apps.get_model(f"{app_label}.{self.model_name}")
        field = model._meta.fields_map[self.name]
        if field.source_field and field.source_field in model._meta.fields_map:
            field = model._meta.fields_map[field.source_field]  # a relation: its id column
        column = field.source_field or self.name
        sql_type = field.get_for_dialect("mysql", "SQL_TYPE")
        await state_editor.client.execute_script(
            f"ALTER TABLE `{model._meta.db_table}` MODIFY COLUMN `{column}` {sql_type}"
            f" {'NULL' if field.null else 'NOT NULL'}"
        )


async def foreign_keys_off(apps: Any, schema_editor: Any) -> None:
    """Before rebuilding SQLite tables: dropping a parent table with foreign keys on deletes
    its children (ON DELETE CASCADE). SQLite's own procedure for table changes turns them off
    first, which only works outside a transaction: the migration must say `atomic = False`."""
    if schema_editor.client.capabilities.dialect == "sqlite":
        await schema_editor.client.execute_script("PRAGMA foreign_keys=OFF")


async def foreign_keys_on(apps: Any, schema_editor: Any) -> None:
    """After the rebuilds: every reference still holds, then foreign keys are enforced again."""
    client = schema_editor.client
    if client.capabilities.dialect != "sqlite":
        return
    _, broken = await client.execute_query("PRAGMA foreign_key_check")
    if broken:
        raise RuntimeError(f"foreign keys broken by the migration: {[dict(row) for row in broken][:5]}")
    await client.execute_script("PRAGMA foreign_keys=ON")


class RemoveUniqueTogether(ops.RemoveConstraint):
    """Tortoise's RemoveConstraint for a unique_together, dropping the unique index on those
    columns whatever its name: restore_indexes names the indexes it recreates its own way, so
    Tortoise's hashed name may not exist."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None or not self.fields:
            return
        client = state_editor.client
        mysql = client.capabilities.dialect == "mysql"
        model = old_state.apps.get_model(f"{app_label}.{self.model_name}")
        table = model._meta.db_table
        columns = tuple(
            model._meta.fields_map[name].source_field or name if name in model._meta.fields_map else name
            for name in self.fields
        )
        for name in await _unique_index_names(client, table, columns, mysql):
            drop = f"DROP INDEX `{name}` ON `{table}`" if mysql else f'DROP INDEX "{name}"'
            await client.execute_script(drop)


async def _unique_index_names(client: Any, table: str, columns: tuple[str, ...], mysql: bool) -> list[str]:
    if mysql:
        _, rows = await client.execute_query(
            "SELECT index_name AS index_name, GROUP_CONCAT(column_name ORDER BY seq_in_index) AS cols"
            " FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = %s"
            " AND non_unique = 0 GROUP BY index_name",
            [table],
        )
        return [row["index_name"] for row in rows if tuple(row["cols"].split(",")) == columns]
    _, rows = await client.execute_query(f'PRAGMA index_list("{table}")')
    names = []
    for row in rows:
        if not row["unique"]:
            continue
        _, cols = await client.execute_query(f'PRAGMA index_info("{row["name"]}")')
        if tuple(str(c["name"]) for c in cols) == columns:
            names.append(row["name"])
    return names


class DropColumn(ops.RemoveField):
    """Tortoise's RemoveField for a plain column (no index, no key), dropped in place on both
    dialects: on SQLite Tortoise would rebuild the table, and a rebuild with foreign keys on
    deletes the rows of every table that cascades from it (SQLite 3.35+ drops in place)."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None:
            return
        model = old_state.apps.get_model(f"{app_label}.{self.model_name}")
        field = model._meta.fields_map[self.name]
        column = field.source_field or self.name
        await state_editor.client.execute_script(
            f"ALTER TABLE `{model._meta.db_table}` DROP COLUMN `{column}`"
        )


# Raw SQL for data upgrades run by migrations on their connection (SQLite or MySQL): "?" marks
# become MySQL's "%s" there; JSON values are written as text.


def upgrade_sql(conn: Any, sql: str) -> str:
    return sql.replace("?", "%s") if conn.capabilities.dialect == "mysql" else sql


async def upgrade_rows(conn: Any, sql: str, values: Sequence[Any] = ()) -> list[dict]:
    _, rows = await conn.execute_query(upgrade_sql(conn, sql), list(values))
    return [dict(row) for row in rows]


async def upgrade_run(conn: Any, sql: str, values: Sequence[Any] = ()) -> None:
    await conn.execute_query(upgrade_sql(conn, sql), list(values))


async def upgrade_insert(conn: Any, table: str, row: dict[str, Any]) -> int:
    columns = ", ".join(f"`{name}`" for name in row)
    marks = ", ".join("?" for _ in row)
    values = [json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for v in row.values()]
    return await conn.execute_insert(
        upgrade_sql(conn, f"INSERT INTO `{table}` ({columns}) VALUES ({marks})"), values
    )
