"""Run a learner's SQL script with results bounded in the database, never held whole in this process.

Each statement runs on its own (autocommit, as psql sends them). A statement that returns rows from a
query (SELECT, VALUES, TABLE, INSERT/UPDATE/DELETE ... RETURNING) is first described, then run wrapped:

    WITH q(c1, c2) AS (<statement>) SELECT c1, left(c2::text, 501) FROM q LIMIT 201

so PostgreSQL itself cuts the rows and every variable-length value; rows are streamed one at a time and
counted against a byte budget too. (A data change with RETURNING gets no LIMIT, since it changes every
row anyway: its rows are streamed and dropped past the budgets, so its count stays exact.) Other
statements that return rows (SHOW, EXPLAIN, FETCH) are streamed under the same budgets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import psycopg
from pglast import ast
from pglast.parser import ParseError, parse_sql
from psycopg import errors as pgerrors
from psycopg.pq import ExecStatus

Row: TypeAlias = tuple[Any, ...]  # one result row, as psycopg gives it

WRAPPED_PREFIX = "WITH q({names}) AS (\n"


@dataclass
class Bounds:
    max_rows: int = 200
    max_bytes: int = 1_000_000
    max_cell_chars: int = 500


@dataclass
class ScriptRun:
    """What the last row-returning statement gave, every statement's status, and the first error."""

    statuses: list[str] = field(default_factory=list)
    columns: list[str] | None = None
    rows: list[Row] = field(default_factory=list)
    cut_rows: bool = False  # more rows than max_rows
    cut_bytes: bool = False  # the rows kept reached max_bytes
    cut_cells: bool = False  # a value was longer than max_cell_chars
    seen: int = 0  # rows the last result had (kept or dropped)
    error: psycopg.Error | None = None
    error_position: int | None = None  # PostgreSQL's position of the error, in characters of the script


def run_script(conn: psycopg.Connection, script: str, bounds: Bounds) -> ScriptRun:
    """Run `script` on `conn` (autocommit) statement by statement; stop at the first error."""
    run = ScriptRun()
    try:
        statements = parse_sql(script)
    except ParseError:
        # PostgreSQL parses a whole simple query before running any of it: it reports the syntax error
        # with its position, and nothing runs.
        try:
            _run_plain(conn, script, run, bounds)
        except psycopg.Error as exc:
            _fail(run, exc, script, 0, 0)
        return run
    for raw in statements:
        start = raw.stmt_location or 0
        text = script[start : start + raw.stmt_len] if raw.stmt_len else script[start:]
        try:
            if _returns_query_rows(raw.stmt):
                _run_wrapped(conn, text, raw.stmt, run, bounds)
            else:
                _run_plain(conn, text, run, bounds)
        except psycopg.Error as exc:
            _fail(run, exc, text, start, getattr(exc, "wrapped_shift", 0))
            return run
    return run


def _fail(run: ScriptRun, exc: psycopg.Error, text: str, start: int, shift: int) -> None:
    run.error = exc
    position = exc.diag.statement_position
    if position and position.isdigit() and 1 <= int(position) - shift <= len(text):
        run.error_position = start + int(position) - shift


def _returns_query_rows(stmt: ast.Node | None) -> bool:
    if isinstance(stmt, ast.SelectStmt):
        # SELECT INTO makes a table and returns nothing; a data-modifying WITH must stay at the top.
        return stmt.intoClause is None and not _modifying_with(stmt.withClause)
    if isinstance(stmt, ast.InsertStmt | ast.UpdateStmt | ast.DeleteStmt):
        returning = getattr(stmt, "returningClause", None) or getattr(stmt, "returningList", None)
        return bool(returning) and not _modifying_with(stmt.withClause)
    return False


def _modifying_with(with_clause: ast.WithClause | None) -> bool:
    if with_clause is None:
        return False
    ctes = [cte for cte in with_clause.ctes or () if isinstance(cte, ast.CommonTableExpr)]
    return any(not isinstance(cte.ctequery, ast.SelectStmt) for cte in ctes)


def _run_wrapped(
    conn: psycopg.Connection, text: str, stmt: ast.Node | None, run: ScriptRun, bounds: Bounds
) -> int:
    """Describe, then run the statement inside the bounding query; returns the length of the text put
    before the statement (error positions are shifted back by it)."""
    described = conn.pgconn.prepare(b"", text.encode())
    if described.status != ExecStatus.COMMAND_OK:
        raise pgerrors.error_from_result(described, encoding=conn.info.encoding)
    fields = conn.pgconn.describe_prepared(b"")
    if fields.status != ExecStatus.COMMAND_OK:
        raise pgerrors.error_from_result(fields, encoding=conn.info.encoding)
    encoding = conn.info.encoding
    names = [(fields.fname(i) or b"?column?").decode(encoding, "replace") for i in range(fields.nfields)]
    types = [fields.ftype(i) for i in range(fields.nfields)]
    lengths: dict[int, int] = dict(
        conn.execute("SELECT oid::int, typlen::int FROM pg_type WHERE oid = ANY(%s)", (types,)).fetchall()
    )
    aliases = [f"c{i}" for i in range(len(names))]
    cells = [
        alias if lengths.get(oid, -1) > 0 else f"left({alias}::text, {bounds.max_cell_chars + 1})"
        for alias, oid in zip(aliases, types, strict=True)
    ]
    prefix = WRAPPED_PREFIX.format(names=", ".join(aliases))
    # A query stops at the first row past the limit; a data change returns every row (it changes them all
    # anyway), streamed and dropped past the limit, so its count is exact.
    limit = f" LIMIT {bounds.max_rows + 1}" if isinstance(stmt, ast.SelectStmt) else ""
    wrapped = f"{prefix}{text}\n) SELECT {', '.join(cells)} FROM q{limit}"
    try:
        with conn.cursor() as cur:
            _collect(cur.stream(wrapped.encode()), names, run, bounds)
    except psycopg.Error as exc:
        exc.wrapped_shift = len(prefix)  # type: ignore[attr-defined]
        raise
    verb = VERBS.get(type(stmt), "SELECT")
    if limit and run.cut_rows:
        run.statuses.append(f"{verb} {bounds.max_rows}+")  # PostgreSQL stopped past the limit
    else:
        run.statuses.append(f"{verb} {run.seen}")
    return len(prefix)


VERBS: dict[type, str] = {ast.InsertStmt: "INSERT 0", ast.UpdateStmt: "UPDATE", ast.DeleteStmt: "DELETE"}


# Statements that always return rows but cannot be wrapped: streamed (row by row) under the same budgets.
STREAMED = (ast.VariableShowStmt, ast.ExplainStmt, ast.FetchStmt)


def _run_plain(conn: psycopg.Connection, text: str, run: ScriptRun, bounds: Bounds) -> None:
    with conn.cursor() as cur:
        if _may_return_rows(text):
            rows = cur.stream(text.encode())
            first = next(rows, None)  # runs the statement; description is known from here on
            if cur.description is not None:
                names = [c.name for c in cur.description]
                _collect(_chain(first, rows), names, run, bounds)
            else:
                for _ in rows:
                    pass
        else:
            cur.execute(text.encode())  # a script that does not parse: PostgreSQL says where
        if cur.statusmessage:
            run.statuses.append(cur.statusmessage)


def _may_return_rows(text: str) -> bool:
    try:
        statements = parse_sql(text)
    except ParseError:
        return False
    if len(statements) != 1:
        return False
    stmt = statements[0].stmt
    if isinstance(stmt, ast.SelectStmt):
        return stmt.intoClause is None
    if isinstance(stmt, ast.InsertStmt | ast.UpdateStmt | ast.DeleteStmt | ast.MergeStmt):
        return bool(getattr(stmt, "returningClause", None) or getattr(stmt, "returningList", None))
    return isinstance(stmt, STREAMED)


def _chain(first: Row | None, rest: Iterator[Row]) -> Iterator[Row]:
    if first is not None:
        yield first
    yield from rest


def _collect(rows: Iterator[Row], names: list[str], run: ScriptRun, bounds: Bounds) -> None:
    """Keep rows while under the budgets; read (and drop) the rest, so the statement completes."""
    run.columns, run.rows = names, []
    run.cut_rows = run.cut_bytes = run.cut_cells = False
    run.seen = used = 0
    for row in rows:
        run.seen += 1
        if len(run.rows) >= bounds.max_rows:
            run.cut_rows = True
            continue
        if used >= bounds.max_bytes:
            run.cut_bytes = True
            continue
        kept = tuple(_cell(value, bounds, run) for value in row)
        used += sum(len(str(v)) for v in kept)
        run.rows.append(kept)


def _cell(value: object, bounds: Bounds, run: ScriptRun) -> object:
    if value is None or isinstance(value, int | float | bool):
        return value
    text = value.hex() if isinstance(value, bytes | memoryview) else str(value)
    if len(text) <= bounds.max_cell_chars:
        return text
    run.cut_cells = True
    return text[: bounds.max_cell_chars] + "…"
