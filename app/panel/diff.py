"""`prisma migrate diff` in the terminal: compare any two of empty, schema.prisma, the migration history
(replayed on the shadow database) and an environment's live database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg

from app.panel import command_line
from app.panel.active import Active
from sandbox import ENVIRONMENTS
from sandbox.migrate import EMPTY_MIGRATION, schema_error_text

if TYPE_CHECKING:
    from sandbox.migrate import SqlSchema

SOURCES = ("empty", "schema-datamodel", "schema", "migrations", "url")
USAGE = (
    "Use: npx prisma migrate diff --from-<source> --to-<source> [--script] [--exit-code]\n"
    "where <source> is one of: --from-empty, --from-schema-datamodel prisma/schema.prisma,\n"
    "--from-migrations prisma/migrations, --from-url <DATABASE_URL> (and the same with --to-)."
)


class DiffUsage(ValueError):
    pass


def _source(command: command_line.Command, side: str) -> tuple[str, str | None]:
    found = []
    for kind in SOURCES:
        flag = f"--{side}-{kind}"
        if command.flag(flag) or command.option(flag) is not None:
            found.append((kind, command.option(flag)))
    if len(found) != 1:
        raise DiffUsage(f"Exactly one --{side}-… source is needed.\n\n{USAGE}")
    return found[0]


def _schema_of(active: Active, kind: str, value: str | None) -> SqlSchema:
    from sandbox.migrate import SqlSchema, introspect, replay
    from sandbox.prisma import to_sql_schema

    if kind == "empty":
        return SqlSchema()
    if kind in ("schema-datamodel", "schema"):
        return to_sql_schema(active.row.schema_text)
    if kind == "migrations":
        with psycopg.connect(active.sandbox.conninfo("shadow"), autocommit=True) as conn:
            return replay(conn, active.history.list())
    urls = {env: active.sandbox.url(env) for env in ENVIRONMENTS}
    env = command_line.env_of(value or "", urls)
    if env is None:
        raise DiffUsage("--from-url/--to-url takes one of the DATABASE_URLs on the environment cards.")
    with psycopg.connect(active.sandbox.conninfo(env), autocommit=True) as conn:
        return introspect(conn)


def run_diff(active: Active, command: command_line.Command) -> tuple[str, int]:
    from sandbox.migrate import ShadowReplayError, diff_schemas, render_script, summarize
    from sandbox.prisma import SchemaError

    try:
        before = _schema_of(active, *_source(command, "from"))
        after = _schema_of(active, *_source(command, "to"))
    except DiffUsage as exc:
        return f"Error: {exc}", 1
    except SchemaError as exc:
        return f"Error: P1012\n\n{schema_error_text(exc)}", 1
    except ShadowReplayError as exc:
        return f"Error: {exc.code}\n\n{exc}", 1
    steps = diff_schemas(before, after)
    if command.flag("--script"):
        text = render_script(steps) if steps else EMPTY_MIGRATION
    else:
        text = "\n".join(summarize(steps)) if steps else "No difference detected."
    return text, 2 if command.flag("--exit-code") and steps else 0
