"""`migrate diff --script` between two schema texts: parsing, diffing and rendering only (no database
driver), so `migration-lab diff` starts without importing psycopg."""

from __future__ import annotations

from sandbox.migrate.differ import diff_schemas
from sandbox.migrate.render import EMPTY_MIGRATION, render_script
from sandbox.migrate.sqlschema import SqlSchema
from sandbox.prisma import SchemaError, to_sql_schema


def calculate(text: str, path: str) -> SqlSchema:
    """The SQL schema of a Prisma schema text; a SchemaError carries `path`, the file it came from."""
    try:
        return to_sql_schema(text)
    except SchemaError as err:
        err.path = path
        raise


def diff_script(
    from_schema: str | None,
    to_schema: str | None,
    from_path: str = "schema.prisma",
    to_path: str = "schema.prisma",
) -> tuple[str, bool]:
    """The SQL script from one schema to the other (None means empty) and whether anything changes.
    Raises sandbox.prisma.SchemaError (its `path` set to the file's) for a schema that does not validate."""
    # `--from-empty`: no database schema exists yet, so each one holding objects is created first.
    before = calculate(from_schema, from_path) if from_schema is not None else SqlSchema(namespaces=[])
    after = calculate(to_schema, to_path) if to_schema is not None else SqlSchema()
    steps = diff_schemas(before, after)
    # `--to-empty`: Prisma names dropped tables, enums and foreign keys with their schema.
    qualify = to_schema is None
    sql = render_script(steps, qualify_drops=qualify) if steps else EMPTY_MIGRATION
    return sql, bool(steps)


def schema_error_text(err: Exception, path: str = "schema.prisma") -> str:
    diagnostics = getattr(err, "diagnostics", [])
    parts = [f"error: {d.message}\n  -->  {path}:{d.line}:{d.column}" for d in diagnostics]
    return "\n".join(parts or [str(err)]) + f"\n\nValidation Error Count: {len(parts) or 1}"
