"""What a new workspace starts with: a small schema already migrated everywhere, and a few rows, so that
the first change a learner makes is an ALTER TABLE on a table that holds data (as in real projects)."""

from __future__ import annotations

import psycopg

from app.pg_errors import reason

STARTER_SCHEMA = """\
// schema.prisma: edit the models, then press Create migration.
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

generator client {
  provider = "prisma-client-js"
}

model User {
  id    Int     @id @default(autoincrement())
  email String  @unique
  name  String?
}
"""

STARTER_MIGRATION = "init"

STARTER_ROWS = """\
INSERT INTO "User" ("email", "name") VALUES
  ('ada@example.com', 'Ada Lovelace'),
  ('grace@example.com', 'Grace Hopper'),
  ('edsger@example.com', 'Edsger Dijkstra');
"""


def starter_migration(history: list[str]) -> str | None:
    """The migration STARTER_ROWS were written for: a new workspace's first migration, named `<ts>_init`.
    None when the history does not start with it (a workspace that did not start from the starter)."""
    if history and history[0].endswith(f"_{STARTER_MIGRATION}"):
        return history[0]
    return None


def insert_starter_rows(conn: psycopg.Connection) -> str | None:
    """Insert STARTER_ROWS (all or nothing: one implicit transaction); PostgreSQL's reason when they no
    longer fit the schema, else None. `conn` is in autocommit mode."""
    try:
        conn.execute(STARTER_ROWS.encode())
    except psycopg.Error as exc:
        return reason(exc)
    return None
