"""What a new workspace starts with: a small schema already migrated everywhere, and a few rows, so that
the first change a learner makes is an ALTER TABLE on a table that holds data (as in real projects)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

import psycopg

from app.panel.drift import fingerprint_of
from app.panel.sql_console import table_counts
from app.panel.views import TableCount
from app.pg_errors import reason
from sandbox import ENVIRONMENTS, Workspace
from sandbox.migrate import (
    HistoryStore,
    MemoryHistory,
    Migration,
    MigrationRecord,
    migrate_deploy,
    migrate_dev,
    read_records,
)

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


class StartFailed(RuntimeError):
    """The starter migration did not apply (the engine's output says why): a bug of ours."""


def apply_start(
    history: HistoryStore, schema: str, session: Callable[[str], AbstractContextManager[psycopg.Connection]]
) -> None:
    """The starter schema migrated in every environment of an empty workspace (`migrate dev` in dev,
    `migrate deploy` in staging and prod), each with STARTER_ROWS. `session(env)`: a connection to it."""
    with session("dev") as dev, session("shadow") as shadow:
        result = migrate_dev(history, dev, shadow, schema, name=STARTER_MIGRATION)
        if result.exit_code != 0:
            raise StartFailed(result.output)
        _starter_rows(dev)
    for env in ("staging", "prod"):
        with session(env) as conn:
            migrate_deploy(history, conn)
            _starter_rows(conn)


def _starter_rows(conn: psycopg.Connection) -> None:
    if (failed := insert_starter_rows(conn)) is not None:
        raise StartFailed(failed)


@dataclass
class PreparedEnv:
    """An environment as the warm pool left it: its migrations table, tables and drift fingerprint."""

    records: list[MigrationRecord]
    tables: list[TableCount]
    fingerprint: tuple[str, str]  # drift.fingerprint_of


def prepare_start(workspace: Workspace) -> str:
    """For the warm pool (SandboxManager.prepare_pooled): the start done before anyone asks, on sessions
    of its own; the label says which migration it applied and what each environment then held, for
    `prepared_migration` and `prepared_envs` (a first visit then reads no database)."""
    history = MemoryHistory([])

    def session(env: str) -> psycopg.Connection:
        return psycopg.connect(workspace.conninfo(env), autocommit=True)

    apply_start(history, STARTER_SCHEMA, session)
    (migration,) = history.list()
    envs = {}
    for env in ENVIRONMENTS:
        with session(env) as conn:
            envs[env] = {
                "records": [_record_json(r) for r in read_records(conn) or []],
                "tables": [[t.name, t.rows] for t in table_counts(conn)],
                "fingerprint": list(fingerprint_of(conn)),
            }
    return json.dumps({"starter": migration.name, "sql": migration.sql, "envs": envs})


def prepared_migration(label: str) -> Migration | None:
    """The starter migration a pooled workspace was prepared with, or None (built cold, or by another
    kind of preparation): then the workspace is empty and gets its start now."""
    try:
        found = json.loads(label)
        name, sql = found["starter"], found["sql"]
    except (ValueError, TypeError, KeyError):
        return None
    if not (isinstance(name, str) and isinstance(sql, str) and name.endswith(f"_{STARTER_MIGRATION}")):
        return None
    return Migration(name, sql)


def prepared_envs(label: str) -> dict[str, PreparedEnv] | None:
    """What each environment held when the pool prepared it; None when the label does not say (then
    the first view reads the databases)."""
    try:
        envs = json.loads(label)["envs"]
        found = {
            env: PreparedEnv(
                [_record_of(r) for r in envs[env]["records"]],
                [TableCount(str(name), int(rows)) for name, rows in envs[env]["tables"]],
                (str(envs[env]["fingerprint"][0]), str(envs[env]["fingerprint"][1])),
            )
            for env in ENVIRONMENTS
        }
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    return found


def _record_json(record: MigrationRecord) -> dict[str, object]:
    found = dataclasses.asdict(record)
    for field in ("started_at", "finished_at", "rolled_back_at"):
        if found[field] is not None:
            found[field] = found[field].isoformat()
    return found


def _record_of(found: dict) -> MigrationRecord:
    for field in ("started_at", "finished_at", "rolled_back_at"):
        if found[field] is not None:
            found[field] = datetime.fromisoformat(found[field])
    return MigrationRecord(**found)
