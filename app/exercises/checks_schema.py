"""Check kinds about the database schema and data: they run on grading databases or learner envs."""

from __future__ import annotations

import psycopg

from app.exercises import catalog
from app.exercises import fingerprints as fp
from app.exercises.context import CheckFailed, GradingContext

# A query that names a table or column the learner has not created (yet) is a failed check, not broken
# content: undefined column, undefined table, undefined object, undefined function.
LEARNER_STATE_SQLSTATES = {"42703", "42P01", "42704", "42883"}


def _each(ctx: GradingContext, params: dict):
    yield from ctx.targets(params.get("target"))


def table(ctx: GradingContext, p: dict) -> None:
    want = p.get("exists", True)
    for where, conn in _each(ctx, p):
        if catalog.table_exists(conn, p["table"]) != want:
            raise CheckFailed(f'table "{p["table"]}" {"is missing" if want else "still exists"} in {where}')


def column(ctx: GradingContext, p: dict) -> None:
    name = f'"{p["table"]}"."{p["column"]}"'
    for where, conn in _each(ctx, p):
        info = catalog.column_info(conn, p["table"], p["column"])
        if not p.get("exists", True):
            if info is not None:
                raise CheckFailed(f"{name} still exists in {where}")
            continue
        if info is None:
            raise CheckFailed(f"{name} is missing in {where}")
        if "type" in p and catalog.normalize_type(info["type"]) != catalog.normalize_type(p["type"]):
            raise CheckFailed(f"{name} has type {info['type']} in {where}, expected {p['type']}")
        if "nullable" in p and info["nullable"] != p["nullable"]:
            state = "nullable" if info["nullable"] else "NOT NULL"
            raise CheckFailed(f"{name} is {state} in {where}")
        if "default" in p:
            got, want = catalog.normalize_default(info["default"]), catalog.normalize_default(p["default"])
            if got != want:
                raise CheckFailed(f"{name} has default {info['default'] or 'none'} in {where}")


def _matching_indexes(conn: psycopg.Connection, p: dict) -> list[dict]:
    found = [i for i in catalog.indexes(conn, p["table"]) if i["columns"] == list(p["columns"])]
    if "name" in p:
        found = [i for i in found if i["name"] == p["name"]]
    return [i for i in found if i["valid"]]


def index(ctx: GradingContext, p: dict) -> None:
    cols = ", ".join(p["columns"])
    for where, conn in _each(ctx, p):
        found = _matching_indexes(conn, p)
        if "unique" in p:
            found = [i for i in found if i["unique"] == p["unique"]]
        if bool(found) != p.get("exists", True):
            state = "no valid index" if not found else "an index"
            raise CheckFailed(f'{where} has {state} on "{p["table"]}" ({cols})')


def unique(ctx: GradingContext, p: dict) -> None:
    index(ctx, {**p, "unique": True})


def foreign_key(ctx: GradingContext, p: dict) -> None:
    for where, conn in _each(ctx, p):
        found = [
            fk
            for fk in catalog.foreign_keys(conn, p["table"])
            if fk["references"] == p["references"]
            and ("columns" not in p or fk["columns"] == list(p["columns"]))
            and ("referenced_columns" not in p or fk["referenced_columns"] == list(p["referenced_columns"]))
            and ("on_delete" not in p or fk["on_delete"] == p["on_delete"].upper())
        ]
        if bool(found) != p.get("exists", True):
            state = "no matching foreign key" if not found else "a foreign key"
            raise CheckFailed(f'{where} has {state} from "{p["table"]}" to "{p["references"]}"')


def enum_values(ctx: GradingContext, p: dict) -> None:
    for where, conn in _each(ctx, p):
        values = catalog.enum_values(conn, p["enum"])
        if values is None:
            raise CheckFailed(f'enum "{p["enum"]}" is missing in {where}')
        if values != list(p["values"]):
            raise CheckFailed(f'enum "{p["enum"]}" has values {values} in {where}')


def sql(ctx: GradingContext, p: dict) -> None:
    for where, conn in _each(ctx, p):
        try:
            with conn.transaction(force_rollback=True):
                row = conn.execute(p["query"]).fetchone()
        except psycopg.Error as error:
            if error.sqlstate in LEARNER_STATE_SQLSTATES:
                raise CheckFailed(f"in {where}: {error.diag.message_primary}") from error
            raise
        if row is None or row[0] is not True:
            raise CheckFailed(f"the query returned {row[0] if row else 'no row'} in {where}")


def _after(ctx: GradingContext, env: str) -> fp.Fingerprints:
    key = f"fingerprints:{env}"
    if key not in ctx.cache:
        ctx.cache[key] = fp.fingerprints(ctx.grading[env])
    return ctx.cache[key]


def _envs(ctx: GradingContext, p: dict) -> list[str]:
    target = str(p.get("target", ""))
    return [target.split(":", 1)[1]] if target.startswith("grading:") else list(ctx.grading)


def _lost(ctx: GradingContext, env: str, columns: list[fp.Column]) -> list[str]:
    after = _after(ctx, env)
    return [
        f'the {c.values} values of "{c.table}"."{c.name}" in grading:{env}'
        for c in columns
        if c.values and fp.kept_in(c, after) is None
    ]


def rows_preserved(ctx: GradingContext, p: dict) -> None:
    """Every row of each table is still there with every value it had (each column's values, found by
    the column's identity, so a rename keeps them, or copied into another column)."""
    for env in _envs(ctx, p):
        before = ctx.baseline_data[env]
        for table in p["tables"]:
            columns = fp.by_name(before, table)
            if not columns:
                raise CheckFailed(f'the exercise\'s table "{table}" is not in grading:{env}')
            rows = fp.table_rows(_after(ctx, env), columns[0].table_oid)
            if rows is None and not _lost(ctx, env, columns):
                rows = columns[0].rows  # every value was copied into a new table
            if rows != columns[0].rows:
                found = "the table is gone" if rows is None else f"{rows} are left"
                raise CheckFailed(f'"{table}" had {columns[0].rows} rows in grading:{env}; {found}')
            if lost := _lost(ctx, env, columns):
                raise CheckFailed(f"after your migrations these values are nowhere: {'; '.join(lost)}")


def no_data_loss(ctx: GradingContext, p: dict) -> None:
    """No value of the grading data is lost: each column that held values still holds them (renamed or
    not) or they were copied elsewhere first. Measured on the data, whatever the SQL looked like."""
    lost = [
        item for env in ctx.grading for item in _lost(ctx, env, list(ctx.baseline_data[env].values()))
    ]
    if lost:
        raise CheckFailed(
            f"your migrations threw away {'; '.join(lost[:3])}{' …' if len(lost) > 3 else ''}. "
            "Rename the column (RENAME COLUMN keeps the values) or copy the values before dropping"
        )


def renamed(ctx: GradingContext, p: dict) -> None:
    """The column `from` of `table` is now called `to`: the same column (same attnum), values kept."""
    for env in _envs(ctx, p):
        before = [c for c in fp.by_name(ctx.baseline_data[env], p["table"]) if c.name == p["from"]]
        if not before:
            raise CheckFailed(f'the exercise has no column "{p["table"]}"."{p["from"]}" in grading:{env}')
        now = _after(ctx, env).get((before[0].table_oid, before[0].attnum))
        if now is None:
            raise CheckFailed(
                f'"{p["from"]}" was dropped in grading:{env}, not renamed (a new column holds no history)'
            )
        if now.name != p["to"]:
            raise CheckFailed(f'"{p["from"]}" is called "{now.name}" in grading:{env}, expected "{p["to"]}"')
        if now.digest != before[0].digest:
            raise CheckFailed(f'"{p["to"]}" no longer holds the values "{p["from"]}" had in grading:{env}')
