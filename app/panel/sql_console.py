"""The SQL console: the learner's SQL, run as the workspace's role, with bounded results and
PostgreSQL's errors located at their line and column."""

from __future__ import annotations

import psycopg
from psycopg import sql as pgsql

from app.panel.views import SqlError, SqlOutcome, TableCount

MAX_ROWS = 200
MAX_CELL_CHARS = 500  # a huge JSON or text value would bloat the page; the note says when cut


def run_sql(conninfo: str, env: str, text: str, limit: int = MAX_ROWS) -> SqlOutcome:
    """Run every statement of `text` in autocommit, as psql does; show the last result set."""
    outcome = SqlOutcome(env=env, sql=text, limit=limit)
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn, conn.cursor() as cur:
            # Without parameters psycopg sends the text as one simple query, so `a; b` both run.
            cur.execute(text.encode())
            while True:
                if cur.statusmessage:
                    outcome.status.append(cur.statusmessage)
                if cur.description is not None:
                    outcome.columns = [column.name for column in cur.description]
                    fetched = cur.fetchmany(limit + 1)
                    outcome.truncated = len(fetched) > limit
                    outcome.rows = [tuple(_cell(v) for v in row) for row in fetched[:limit]]
                if not cur.nextset():
                    break
    except psycopg.Error as exc:
        outcome.error = locate_error(exc, text)
    return outcome


def _cell(value: object) -> object:
    if value is None or isinstance(value, int | float | bool):
        return value
    text = value.hex() if isinstance(value, bytes | memoryview) else str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + "…"


def locate_error(exc: psycopg.Error, text: str) -> SqlError:
    diag = exc.diag
    message = diag.message_primary or str(exc).strip().splitlines()[0]
    error = SqlError(
        message=message,
        sqlstate=diag.sqlstate or "",
        detail=diag.message_detail or "",
        hint=diag.message_hint or "",
    )
    position = diag.statement_position
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
