"""Trace a migration statement by statement on a throwaway copy of a database.

Each statement runs in its own transaction on the copy; before that transaction ends, the tracer reads the
table locks its own backend holds (`pg_locks`), which tables got a new `relfilenode` (rewritten) and which
were read in full (`pg_stat_xact_user_tables`). The transaction then commits *on the copy* (never on the
source, which is not touched): the next statement runs on the schema it expects, and the copy ends up
migrated for the old-application queries. Rolling back and running the statement again would double the
time of every rewrite or index build for the same observation.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg
from pglast import ast
from pglast.enums import ObjectType

from sandbox.risk import locks as lockmodes
from sandbox.risk.linter import Finding, lint
from sandbox.risk.statements import Statement, split, statement_at

NOT_IN_TRANSACTION = "25001"  # active_sql_transaction: "... cannot run inside a transaction block"
NOTE_OUTSIDE = (
    "runs only outside a transaction: it ran on the copy in autocommit, and the lock shown is the one "
    "PostgreSQL's documentation gives for this form"
)
NOTE_UNOBSERVED = "runs only outside a transaction: it ran on the copy, its locks could not be observed"
NOTE_TRANSACTION = "transaction control: not traced (each statement is traced on its own)"

_TABLES = """
SELECT c.oid, c.relfilenode, n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm', 'f') AND n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\\_%'
"""
# What a statement did, read inside its transaction in one round trip: its backend's table locks, every
# user table's relfilenode and name, and the tables it read in full.
_OBSERVE = f"""
SELECT
  (SELECT coalesce(json_agg(json_build_array(relation::bigint, mode)), '[]') FROM pg_locks
   WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())),
  (SELECT coalesce(json_agg(json_build_array(t.oid::bigint, t.relfilenode::bigint, t.nspname, t.relname)),
                   '[]')
   FROM ({_TABLES}) t),
  (SELECT coalesce(json_agg(relid::bigint), '[]') FROM pg_stat_xact_user_tables WHERE seq_scan > 0)
"""


class TraceError(Exception):
    """The copy could not be traced (connection lost, copy missing): not the migration's fault."""


@dataclass(frozen=True)
class Lock:
    relation: str
    mode: str


@dataclass
class StatementRisk:
    index: int
    line: int
    sql: str
    locks: list[Lock] = field(default_factory=list)  # strongest first, one per table
    rewrites: list[str] = field(default_factory=list)
    scans: list[str] = field(default_factory=list)  # read in full without being rewritten
    duration_ms: float = 0.0
    lint: list[Finding] = field(default_factory=list)
    note: str = ""
    error: str = ""  # PostgreSQL's error when the statement failed on the copy

    @property
    def strongest(self) -> Lock | None:
        return self.locks[0] if self.locks else None

    @property
    def blocks(self) -> list[str]:
        return lockmodes.blocked_operations(self.strongest.mode if self.strongest else None)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "line": self.line,
            "sql": self.sql,
            "locks": [{"relation": lock.relation, "mode": lock.mode} for lock in self.locks],
            "rewrites": list(self.rewrites),
            "duration_ms": self.duration_ms,
            "blocks": self.blocks,
            "lint": [{"rule": f.rule, "message": f.message, "help": f.help} for f in self.lint],
        }


@dataclass
class RiskReport:
    statements: list[StatementRisk]

    @property
    def failed(self) -> StatementRisk | None:
        return next((s for s in self.statements if s.error), None)

    def to_json(self) -> dict[str, Any]:
        return {"statements": [s.to_json() for s in self.statements]}

    def lock_on(self, table: str) -> str | None:
        """The strongest mode any statement took on `table`."""
        modes = [lock.mode for s in self.statements for lock in s.locks if lock.relation == table]
        return lockmodes.strongest(modes)


def pg_error(error: psycopg.Error) -> str:
    diag = error.diag
    text = diag.message_primary or str(error).strip()
    return f"{text} (SQLSTATE {diag.sqlstate})" if diag.sqlstate else text


def _name(schema: str, table: str) -> str:
    return table if schema == "public" else f"{schema}.{table}"


def _rewritten(before: dict[int, tuple[int, str]], after: dict[int, tuple[int, str]]) -> list[str]:
    return sorted(name for oid, (node, name) in before.items() if oid in after and after[oid][0] != node)


def _range_name(relation: ast.RangeVar | None) -> str:
    if relation is None:
        return "?"
    return _name(relation.schemaname or "public", relation.relname or "?")


def _tables(conn: psycopg.Connection) -> dict[int, tuple[int, str]]:
    """oid -> (relfilenode, name) of every user table."""
    return {oid: (node, _name(schema, rel)) for oid, node, schema, rel in conn.execute(_TABLES)}


def _documented_locks(conn: psycopg.Connection, node: ast.Node | None) -> list[tuple[str, str]] | None:
    """(table, mode) for the forms that refuse a transaction block, before they run; None if unknown."""
    sux, ax = "ShareUpdateExclusiveLock", "AccessExclusiveLock"
    if isinstance(node, ast.IndexStmt) and node.concurrent:
        return [(_range_name(node.relation), sux)]
    if isinstance(node, ast.ReindexStmt) and node.relation is not None:
        return [(_range_name(node.relation), sux)]
    if isinstance(node, ast.VacuumStmt):
        full = any(opt.defname == "full" for opt in node.options or ())
        return [(_range_name(rel.relation), ax if full else sux) for rel in node.rels or ()]
    if isinstance(node, ast.DropStmt) and node.concurrent and node.removeType == ObjectType.OBJECT_INDEX:
        found = []
        for names in node.objects or ():
            qualified = ".".join(f'"{part.sval}"' for part in names)
            row = conn.execute(
                "SELECT n.nspname, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE i.indexrelid = to_regclass(%s)",
                (qualified,),
            ).fetchone()
            if row:
                found.append((_name(row[0], row[1]), sux))
        return found
    return None


def _sorted_locks(pairs: list[tuple[str, str]]) -> list[Lock]:
    best: dict[str, str] = {}
    for relation, mode in pairs:
        if mode in lockmodes.RANK and lockmodes.RANK[mode] >= lockmodes.RANK.get(best.get(relation, ""), -1):
            best[relation] = mode
    ordered = sorted(best.items(), key=lambda item: (-lockmodes.RANK[item[1]], item[0]))
    return [Lock(relation, mode) for relation, mode in ordered]


def _outside_transaction(conn: psycopg.Connection, statement: Statement, risk: StatementRisk) -> None:
    before = _tables(conn)
    documented = _documented_locks(conn, statement.node)
    started = time.perf_counter()
    conn.execute(statement.sql)
    risk.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    after = _tables(conn)
    risk.rewrites = _rewritten(before, after)
    risk.locks = _sorted_locks(documented or [])
    risk.note = NOTE_OUTSIDE if documented is not None else NOTE_UNOBSERVED


def _in_transaction(
    conn: psycopg.Connection, statement: Statement, risk: StatementRisk, tables: dict[int, tuple[int, str]]
) -> dict[int, tuple[int, str]] | None:
    """Trace one statement in its own transaction on the copy, given the tables before it (only those
    there before the migration: no running application uses the others). Returns the tables after it, or
    None when it refuses a transaction block."""
    try:
        started = time.perf_counter()
        conn.execute(f"BEGIN;\n{statement.sql}".encode())  # one round trip: the statement is timed alone
        risk.duration_ms = round((time.perf_counter() - started) * 1000, 1)
        row = conn.execute(_OBSERVE).fetchone()
    except psycopg.Error as error:
        conn.execute("ROLLBACK")
        if error.diag.sqlstate == NOT_IN_TRANSACTION:
            return None
        raise
    conn.execute("COMMIT")
    held, listed, scanned = row if row else ([], [], [])
    after = {oid: (node, _name(schema, rel)) for oid, node, schema, rel in listed}
    risk.locks = _sorted_locks([(tables[oid][1], mode) for oid, mode in held if oid in tables])
    risk.rewrites = _rewritten(tables, after)
    risk.scans = sorted({tables[oid][1] for oid in scanned if oid in tables} - set(risk.rewrites))
    return after


def trace(
    text: str,
    conninfo: str | psycopg.Connection,
    *,
    with_lint: bool = True,
    assume_in_transaction: bool = False,
    statement_timeout_ms: int | None = None,
) -> RiskReport:
    """Trace every statement of `text` on the database at `conninfo` (or on an open autocommit
    connection to it), which must be a throwaway copy: it is left migrated. Raises SqlSyntaxError (bad
    SQL), LintError (squawk missing) or TraceError."""
    statements = split(text)
    report = RiskReport([StatementRisk(s.index, s.line, s.sql) for s in statements])
    with ThreadPoolExecutor(max_workers=1) as pool:
        # squawk runs while the statements do: its process start costs as much as a small statement.
        linting = pool.submit(lint, text, assume_in_transaction) if with_lint and statements else None
        if isinstance(conninfo, psycopg.Connection):
            _trace_on(conninfo, statements, report, statement_timeout_ms)
        else:
            try:
                conn = psycopg.connect(conninfo, autocommit=True)
            except psycopg.Error as error:
                raise TraceError(f"cannot connect to the copy: {pg_error(error)}") from error
            with conn:
                _trace_on(conn, statements, report, statement_timeout_ms)
        for finding in linting.result() if linting else []:
            owner = statement_at(statements, finding.offset)
            if owner is not None:
                report.statements[owner.index - 1].lint.append(finding)
    return report


def _trace_on(
    conn: psycopg.Connection, statements: list[Statement], report: RiskReport, timeout_ms: int | None
) -> None:
    if timeout_ms:
        conn.execute(f"SET statement_timeout = {int(timeout_ms)}")
    tables = _tables(conn)
    existing = set(tables)
    for statement, risk in zip(statements, report.statements, strict=True):
        if isinstance(statement.node, ast.TransactionStmt):
            risk.note = NOTE_TRANSACTION
            continue
        try:
            before = {oid: value for oid, value in tables.items() if oid in existing}
            after = _in_transaction(conn, statement, risk, before)
            if after is None:
                _outside_transaction(conn, statement, risk)
                after = _tables(conn)
            tables = after
        except psycopg.OperationalError as error:
            if conn.closed:
                raise TraceError(f"the copy went away: {pg_error(error)}") from error
            risk.error = pg_error(error)
            break
        except psycopg.Error as error:
            risk.error = pg_error(error)
            break
