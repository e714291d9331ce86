"""Prisma's `_prisma_migrations` table, and running one migration script the way Prisma runs it.

As Prisma 7.10.1 does (prisma-engines #5767/#5799), a script is split into statements by a SQL parser
and each statement is sent as its own simple-protocol query, so each commits on its own: a failure in
the middle leaves the statements before it applied, and `CREATE INDEX CONCURRENTLY` may stand beside
other statements. A script the parser cannot read goes as one batch (one implicit transaction), which
still refuses CONCURRENTLY beside other statements (SQLSTATE 25001). See `statements.py`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from sandbox.migrate.statements import split_statements

TABLE = "_prisma_migrations"
SCHEMA = "public"
# The key Prisma's schema engine locks on PostgreSQL, so our runs and the real tool's exclude each other.
ADVISORY_LOCK_KEY = 72707369

CREATE_TABLE = f"""CREATE TABLE "{SCHEMA}"."{TABLE}" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)"""

P3018_TEXT = (
    "A migration failed to apply. New migrations cannot be applied before the error is recovered from. "
    "Read more about how to resolve migration issues in a production database: "
    "https://pris.ly/d/migrate-resolve\n\nMigration name: {name}\n\nDatabase error code: {code}\n\n"
    "Database error:\n{error}\n"
)


@dataclass
class MigrationRecord:
    id: str
    checksum: str
    finished_at: datetime | None
    migration_name: str
    logs: str | None
    rolled_back_at: datetime | None
    started_at: datetime
    applied_steps_count: int

    @property
    def failed(self) -> bool:
        return self.finished_at is None and self.rolled_back_at is None

    @property
    def applied(self) -> bool:
        return self.finished_at is not None and self.rolled_back_at is None


class ApplyError(Exception):
    """P3018: the database refused a migration script; `str()` is Prisma's message."""

    code = "P3018"

    def __init__(self, migration_name: str, database_error_code: str, database_error: str) -> None:
        self.migration_name = migration_name
        self.database_error_code = database_error_code
        self.database_error = database_error
        super().__init__(
            P3018_TEXT.format(name=migration_name, code=database_error_code, error=database_error)
        )


class SchemaNotEmpty(Exception):
    code = "P3005"

    def __init__(self) -> None:
        super().__init__(
            "The database schema is not empty. Read more about how to baseline an existing production "
            "database: https://pris.ly/d/migrate-baseline"
        )


def _table() -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(SCHEMA), sql.Identifier(TABLE))


def has_table(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", (f'"{SCHEMA}"."{TABLE}"',)).fetchone()
    return row is not None and row[0] is not None


def schema_is_empty(conn: psycopg.Connection) -> bool:
    """What Prisma checks before creating the table: no relation and no type of the user's in the schema."""
    row = conn.execute(
        """SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                          WHERE n.nspname = %(s)s AND c.relname <> %(t)s
                            AND c.relkind IN ('r','p','v','m','f'))
               OR EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                          WHERE n.nspname = %(s)s AND t.typtype IN ('e','d'))""",
        {"s": SCHEMA, "t": TABLE},
    ).fetchone()
    return not (row and row[0])


def create_table(conn: psycopg.Connection) -> None:
    conn.execute(CREATE_TABLE)


def initialize(conn: psycopg.Connection) -> None:
    """Create the table on first use; refuse (P3005) a non-empty schema that Prisma never managed."""
    if has_table(conn):
        return
    if not schema_is_empty(conn):
        raise SchemaNotEmpty()
    create_table(conn)


def list_records(conn: psycopg.Connection) -> list[MigrationRecord]:
    return read_records(conn) or []


def read_records(conn: psycopg.Connection) -> list[MigrationRecord] | None:
    """The table's rows in the order Prisma reads them; None when the database has no such table."""
    if not has_table(conn):
        return None
    rows = conn.execute(
        sql.SQL(
            "SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, "
            "applied_steps_count FROM {} ORDER BY started_at, migration_name"
        ).format(_table())
    ).fetchall()
    return [MigrationRecord(*row) for row in rows]


def record_started(conn: psycopg.Connection, name: str, checksum: str) -> str:
    migration_id = str(uuid.uuid4())
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (id, checksum, migration_name, started_at) VALUES (%s, %s, %s, now())"
        ).format(_table()),
        (migration_id, checksum, name),
    )
    return migration_id


def record_finished(conn: psycopg.Connection, migration_id: str) -> None:
    conn.execute(
        sql.SQL(
            "UPDATE {} SET applied_steps_count = applied_steps_count + 1, finished_at = now() WHERE id = %s"
        ).format(_table()),
        (migration_id,),
    )


def record_failed(conn: psycopg.Connection, migration_id: str, logs: str) -> None:
    conn.execute(sql.SQL("UPDATE {} SET logs = %s WHERE id = %s").format(_table()), (logs, migration_id))


def mark_applied(conn: psycopg.Connection, name: str, checksum: str) -> None:
    """`migrate resolve --applied`: a finished row that ran no step (the fix was done by hand)."""
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (id, checksum, migration_name, logs, started_at, finished_at, "
            "applied_steps_count) VALUES (%s, %s, %s, NULL, now(), now(), 0)"
        ).format(_table()),
        (str(uuid.uuid4()), checksum, name),
    )


class SavedRecord(Protocol):
    """A row of `_prisma_migrations` as a caller kept it (a `MigrationRecord`, or the caller's copy)."""

    @property
    def migration_name(self) -> str: ...
    @property
    def checksum(self) -> str: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def finished_at(self) -> datetime | None: ...
    @property
    def rolled_back_at(self) -> datetime | None: ...
    @property
    def logs(self) -> str | None: ...
    @property
    def applied_steps_count(self) -> int: ...


def clear_records(conn: psycopg.Connection) -> bool:
    """Delete every row (a copied database's rows give way to saved ones); False when there is no table."""
    if not has_table(conn):
        return False
    conn.execute(sql.SQL("DELETE FROM {}").format(_table()))
    return True


def restore_record(conn: psycopg.Connection, record: SavedRecord) -> None:
    """Write a saved row back as it was (times, logs, steps; a new id): a rebuilt database gets its
    applied, failed and rolled-back history back."""
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at,"
            " applied_steps_count) VALUES (gen_random_uuid()::text, %s, %s, %s, %s, %s, %s, %s)"
        ).format(_table()),
        (
            record.checksum,
            record.finished_at,
            record.migration_name,
            record.logs,
            record.rolled_back_at,
            record.started_at,
            record.applied_steps_count,
        ),
    )


def mark_rolled_back(conn: psycopg.Connection, migration_id: str) -> None:
    statement = sql.SQL("UPDATE {} SET rolled_back_at = now() WHERE id = %s").format(_table())
    conn.execute(statement, (migration_id,))


def lock(conn: psycopg.Connection) -> None:
    """Session advisory lock, released with the connection (Prisma waits at most 10 s). One simple query,
    so one round trip, run as one implicit transaction: the SET LOCAL ends with it, leaving the session's
    own lock_timeout as it was."""
    conn.execute(
        sql.SQL("SET LOCAL lock_timeout = '10s'; SELECT pg_advisory_lock({})").format(
            sql.Literal(ADVISORY_LOCK_KEY)
        )
    )


def run_script(conn: psycopg.Connection, name: str, script: str) -> None:
    """Run a migration file on an autocommit connection; raise `ApplyError` with Prisma's text."""
    if not conn.autocommit:
        raise ValueError("migration scripts run on an autocommit connection (Prisma's simple query)")
    pieces = split_statements(script)
    batches = [(script, 0)] if pieces is None else [(piece.text, piece.offset) for piece in pieces]
    for text, offset in batches:
        try:
            # No parameters: psycopg sends the text as one simple-protocol query, as Prisma does.
            conn.execute(text.encode("utf-8"))
        except psycopg.DatabaseError as err:
            if conn.info.transaction_status == TransactionStatus.INERROR:
                # A `BEGIN` of the file left an aborted transaction open: end it, so the failure can
                # be recorded on this connection.
                conn.execute("ROLLBACK")
            raise apply_error(name, script, err, offset) from err


def apply_migration(conn: psycopg.Connection, name: str, script: str, checksum: str) -> None:
    """Record the start, run the file, record the end; a failure keeps the row with its logs."""
    migration_id = record_started(conn, name, checksum)
    try:
        run_script(conn, name, script)
    except ApplyError as err:
        record_failed(conn, migration_id, str(err))
        raise
    record_finished(conn, migration_id)


# -- Prisma's rendering of a database error --------------------------------------------------------


def apply_error(name: str, script: str, err: psycopg.DatabaseError, offset: int = 0) -> ApplyError:
    """Prisma's P3018 text; `offset` is where the failing statement starts in the file, so the
    `Position:` lines point into the file (PostgreSQL counts from the start of the statement sent)."""
    diag = err.diag
    if not diag.sqlstate:
        return ApplyError(name, "none", str(err).strip())
    text = f"{diag.severity or 'ERROR'}: {diag.message_primary or ''}"
    if diag.message_detail:
        text += f"\nDETAIL: {diag.message_detail}"
    if diag.message_hint:
        text += f"\nHINT: {diag.message_hint}"
    if diag.statement_position:
        text += error_position(script, offset + int(diag.statement_position))
    return ApplyError(name, diag.sqlstate, f"{text}\n\n{_db_error_debug(diag)}")


def error_position(script: str, position: int) -> str:
    """The file lines up to the failing one, numbered, as Prisma prints them under `Position:`."""
    previous = [""] * 5
    index = 0
    for number, line in enumerate(script.split("\n"), start=1):
        line = line.removesuffix("\r")
        index += len(line) + 1
        if position <= index:
            numbered = []
            for slot, text in enumerate(previous):
                shown = number - (len(previous) - slot)
                if shown >= 0:  # Prisma shows a line 0 too when the error is near the top
                    numbered.append(f"{shown:>3}{' ' if text else ''}{text}")
            return "\n\nPosition:\n" + "\n".join(numbered) + f"\n{number:>3} {line}"
        previous = previous[1:] + [line]
    return ""


def _rust_quoted(value: str) -> str:
    """A string as Rust's `{:?}` prints it."""
    for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r")):
        value = value.replace(raw, escaped)
    return f'"{value}"'


def _rust_str(value: str | None) -> str:
    return "None" if value is None else f"Some({_rust_quoted(value)})"


def _db_error_debug(diag: psycopg.errors.Diagnostic) -> str:
    """tokio-postgres' `{db_error:?}`, which Prisma appends to the message."""
    severity = diag.severity_nonlocalized or diag.severity or "ERROR"
    position = "None"
    if diag.statement_position:
        position = f"Some(Original({diag.statement_position}))"
    elif diag.internal_position:
        position = (
            f"Some(Internal {{ position: {diag.internal_position}, "
            f"query: {_rust_quoted(diag.internal_query or '')} }})"
        )
    fields = [
        f'severity: "{severity}"',
        f"parsed_severity: Some({severity.capitalize()})",
        f"code: SqlState(E{diag.sqlstate})",
        f"message: {_rust_quoted(diag.message_primary or '')}",
        f"detail: {_rust_str(diag.message_detail)}",
        f"hint: {_rust_str(diag.message_hint)}",
        f"position: {position}",
        f"where_: {_rust_str(diag.context)}",
        f"schema: {_rust_str(diag.schema_name)}",
        f"table: {_rust_str(diag.table_name)}",
        f"column: {_rust_str(diag.column_name)}",
        f"datatype: {_rust_str(diag.datatype_name)}",
        f"constraint: {_rust_str(diag.constraint_name)}",
        f"file: {_rust_str(diag.source_file)}",
        f"line: {'Some(' + diag.source_line + ')' if diag.source_line else 'None'}",
        f"routine: {_rust_str(diag.source_function)}",
    ]
    return "DbError { " + ", ".join(fields) + " }"
