"""Replay migrations for exercises exactly as `migrate deploy` does, through the engine's own code.

Used to build the exercise start states and to replay a learner's history on grading databases; going
through the engine's `_prisma_migrations` functions keeps grading faithful to what the sandbox and the
real tool do.
"""

from __future__ import annotations

import psycopg

from app.exercises.model import Migration
from app.pg_errors import described
from sandbox.migrate import ApplyError, create_table, has_table, list_records, mark_applied
from sandbox.migrate import apply_migration as apply_and_record

pg_error_text = described  # PostgreSQL's own words, with the SQLSTATE and the position when it gave one


def apply_migration(conn: psycopg.Connection, migration: Migration) -> str | None:
    """Apply one migration and record it; returns PostgreSQL's error text when it failed.

    `conn` must be in autocommit mode; a failed migration keeps its row with the logs and no
    `finished_at`, as Prisma records it.
    """
    if not has_table(conn):
        create_table(conn)
    try:
        apply_and_record(conn, migration.name, migration.sql, migration.checksum)
    except ApplyError as error:
        first_line = error.database_error.split("\n", 1)[0].removeprefix("ERROR: ")
        return f"{first_line} (SQLSTATE {error.database_error_code})"
    return None


def record_resolved(conn: psycopg.Connection, migration: Migration) -> None:
    """Record a migration as `migrate resolve --applied` does: finished, no step run."""
    if not has_table(conn):
        create_table(conn)
    mark_applied(conn, migration.name, migration.checksum)


def applied_migrations(conn: psycopg.Connection) -> list[dict]:
    """Rows of `_prisma_migrations` in the order they were started; empty when the table is missing."""
    return [
        {
            "migration_name": r.migration_name,
            "checksum": r.checksum,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "rolled_back_at": r.rolled_back_at,
            "logs": r.logs,
            "applied_steps_count": r.applied_steps_count,
        }
        for r in list_records(conn)
    ]
