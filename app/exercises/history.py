"""Apply migrations to a database the way `prisma migrate deploy` does, recording `_prisma_migrations`.

Used to build the exercise start states and to replay a learner's history on grading databases.
"""

from __future__ import annotations

import hashlib
import re
import uuid

import psycopg

from app.exercises.model import Migration

MIGRATIONS_TABLE_DDL = """
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)
"""

# PostgreSQL refuses these inside a transaction block (SQLSTATE 25001); Prisma runs such a file as is.
NO_TRANSACTION = re.compile(r"\b(CONCURRENTLY|ALTER\s+TYPE\s+\S+\s+ADD\s+VALUE)\b", re.IGNORECASE)


def checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


def pg_error_text(error: psycopg.Error) -> str:
    """PostgreSQL's own words, with the SQLSTATE and the position when it gave one."""
    diag = error.diag
    text = diag.message_primary or str(error).strip()
    if diag.sqlstate:
        text = f"{text} (SQLSTATE {diag.sqlstate})"
    if diag.statement_position:
        text += f" at position {diag.statement_position}"
    return text


def apply_migration(conn: psycopg.Connection, migration: Migration) -> str | None:
    """Apply one migration and record it; returns PostgreSQL's error text when it failed.

    `conn` must be in autocommit mode; a failed migration is recorded with its logs and no
    `finished_at`, as Prisma records it.
    """
    conn.execute(MIGRATIONS_TABLE_DDL)
    row_id = str(uuid.uuid4())
    conn.execute(
        'INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES (%s, %s, %s)',
        (row_id, checksum(migration.sql), migration.name),
    )
    try:
        if NO_TRANSACTION.search(migration.sql):
            conn.execute(migration.sql)
        else:
            with conn.transaction():
                conn.execute(migration.sql)
    except psycopg.Error as error:
        message = pg_error_text(error)
        conn.execute('UPDATE "_prisma_migrations" SET logs = %s WHERE id = %s', (message, row_id))
        return message
    conn.execute(
        'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = %s',
        (row_id,),
    )
    return None


def applied_migrations(conn: psycopg.Connection) -> list[dict]:
    """Rows of `_prisma_migrations` in the order they were started; empty when the table is missing."""
    exists = conn.execute("SELECT to_regclass('public._prisma_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return []
    cur = conn.execute(
        'SELECT migration_name, checksum, started_at, finished_at, rolled_back_at, logs'
        ' FROM "_prisma_migrations" ORDER BY started_at, migration_name'
    )
    cols = [c.name for c in cur.description or []]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
