"""The SQL console: the learner's SQL, run as the workspace's role, with bounded results and
PostgreSQL's errors located at their line and column."""

from __future__ import annotations

from contextlib import AbstractContextManager

import psycopg
from psycopg import sql as pgsql

from app.panel.views import SqlError, SqlOutcome, TableCount
from app.pg_errors import reason
from sandbox import Bounds, run_script

MAX_ROWS = 200
MAX_BYTES = 1_000_000
MAX_CELL_CHARS = 500  # a huge JSON or text value would bloat the page; the note says when cut


def run_sql(
    session: AbstractContextManager[psycopg.Connection],
    env: str,
    text: str,
    limit: int = MAX_ROWS,
    max_bytes: int = MAX_BYTES,
) -> SqlOutcome:
    """Run every statement of `text` in autocommit, as psql does; show the last result set, cut in the
    database (rows, each value's length) and here (bytes), never held whole (sandbox.bounded).
    `session`: an autocommit connection as the workspace's role (`Workspace.reading`), opened on entry."""
    outcome = SqlOutcome(env=env, sql=text, limit=limit)
    bounds = Bounds(max_rows=limit, max_bytes=max_bytes, max_cell_chars=MAX_CELL_CHARS)
    try:
        with session as conn:
            run = run_script(conn, text, bounds)
    except psycopg.Error as exc:  # could not connect
        outcome.error = locate_error(exc, text)
        return outcome
    outcome.status = run.statuses
    if run.columns is not None:
        outcome.columns, outcome.rows = run.columns, run.rows
    outcome.truncated = run.cut_rows or run.cut_bytes
    cuts = []
    if run.cut_rows:
        cuts.append(f"only the first {limit} rows are shown")
    if run.cut_bytes:
        cuts.append(f"rows stop at {max_bytes // 1000} kB of values (MIGRATION_LAB_MAX_RESULT_BYTES)")
    if run.cut_cells:
        cuts.append(f"values longer than {MAX_CELL_CHARS} characters are cut (…)")
    outcome.cut_note = "; ".join(cuts)
    if run.error is not None:
        outcome.error = locate_error(run.error, text, run.error_position)
    return outcome


def locate_error(exc: psycopg.Error, text: str, position_in_text: int | None = None) -> SqlError:
    diag = exc.diag
    error = SqlError(
        message=reason(exc),
        sqlstate=diag.sqlstate or "",
        detail=diag.message_detail or "",
        hint=diag.message_hint or "",
    )
    position = str(position_in_text) if position_in_text else diag.statement_position
    if position and position.isdigit():
        # PostgreSQL counts characters from 1 over the whole query string.
        before = text[: int(position) - 1]
        error.line = before.count("\n") + 1
        error.column = len(before) - (before.rfind("\n") + 1) + 1
        error.source_line = text.splitlines()[error.line - 1] if text.splitlines() else ""
    return error


def table_counts(conn_or_conninfo: psycopg.Connection | str) -> list[TableCount]:
    """Tables of the public schema with their exact row counts (the migrations table is left out)."""
    if isinstance(conn_or_conninfo, str):
        with psycopg.connect(conn_or_conninfo, autocommit=True, connect_timeout=10) as conn:
            return table_counts(conn)
    conn = conn_or_conninfo
    names = [
        row[0]
        for row in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
            " AND c.relname <> '_prisma_migrations' ORDER BY c.relname"
        )
    ]
    if not names:
        return []
    counts = pgsql.SQL(" UNION ALL ").join(
        pgsql.SQL("SELECT {}, count(*) FROM {}").format(pgsql.Literal(name), pgsql.Identifier(name))
        for name in names
    )
    return sorted(TableCount(name, int(rows)) for name, rows in conn.execute(counts))
