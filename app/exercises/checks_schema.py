"""Check kinds about the database schema and data: they run on grading databases or learner envs."""

from __future__ import annotations

import psycopg

from app.exercises import catalog
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
            if fk["columns"] == list(p["columns"]) and fk["references"] == p["references"]
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


def rows_preserved(ctx: GradingContext, p: dict) -> None:
    mode = p.get("mode", "count")
    target = str(p.get("target", ""))
    envs = [target.split(":", 1)[1]] if target.startswith("grading:") else list(ctx.grading)
    for env in envs:
        for tbl in p["tables"]:
            before = ctx.baseline[env][f"{tbl}|{mode}"]
            after = catalog.table_fingerprint(ctx.grading[env], tbl, mode)
            if after != before:
                what = "rows" if mode == "count" else "row values"
                raise CheckFailed(f'the {what} of "{tbl}" changed in grading:{env}')


def no_data_loss(ctx: GradingContext, p: dict) -> None:
    if ctx.data_loss:
        raise CheckFailed("; ".join(ctx.data_loss))
