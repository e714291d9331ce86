"""The shadow database: the migration history replayed on a scratch database, then read back.

Replaying is the slow part of `migrate dev`, so the shadow remembers what it holds: a small table in
its own schema (which introspection of `public` never sees) lists the migrations replayed so far with
their checksums. A history that extends that list is replayed incrementally; any other history (an
edited, removed or reordered migration, or a replay that failed half-way) resets the shadow first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from sandbox.migrate.history import Migration
from sandbox.migrate.sqlschema import SqlSchema
from sandbox.migrate.table import ApplyError, run_script

STATE_SCHEMA = "_migration_lab_shadow"


class ShadowReplayError(Exception):
    """P3006: a migration of the history does not apply to an empty database."""

    code = "P3006"

    def __init__(self, migration_name: str, inner: ApplyError) -> None:
        self.migration_name = migration_name
        self.inner = inner
        super().__init__(
            f"Migration `{migration_name}` failed to apply cleanly to the shadow database. \n"
            f"Error code: {inner.code}\nError:\n{inner}"
        )


class ShadowCreationError(Exception):
    """P3014: no permission (or no server) to create the temporary shadow database."""

    code = "P3014"

    def __init__(self, inner: Exception) -> None:
        super().__init__(
            "Prisma Migrate could not create the shadow database. Please make sure the database user has "
            "permission to create databases. Read more about the shadow database (and workarounds) at "
            f"https://pris.ly/d/migrate-shadow\n\nOriginal error: \n{inner}"
        )


def reset_schemas(conn: psycopg.Connection, keep: Sequence[str] = (STATE_SCHEMA,)) -> None:
    """Drop every user schema (tables, types, extensions in them) and give back an empty `public`."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%%' AND nspname <> ALL(%s)",
            (list(("information_schema", *keep)),),
        )
    ]
    for name in names:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
    conn.execute("CREATE SCHEMA IF NOT EXISTS public")


def _replayed(conn: psycopg.Connection) -> list[tuple[str, str, bool]]:
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA}")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.replayed (position INTEGER PRIMARY KEY, "
        "migration_name TEXT NOT NULL, checksum TEXT NOT NULL, complete BOOLEAN NOT NULL)"
    )
    rows = conn.execute(
        f"SELECT migration_name, checksum, complete FROM {STATE_SCHEMA}.replayed ORDER BY position"
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def replay(
    conn: psycopg.Connection, migrations: Sequence[Migration], schemas: Sequence[str] = ("public",)
) -> SqlSchema:
    """Bring the shadow to exactly `migrations` (incrementally when possible) and introspect `schemas`."""
    from sandbox.migrate.introspection import introspect

    wanted = [(m.name, m.checksum) for m in migrations]
    done = _replayed(conn)
    if any(not complete for _, _, complete in done) or [d[:2] for d in done] != wanted[: len(done)]:
        reset_schemas(conn)
        conn.execute(f"DELETE FROM {STATE_SCHEMA}.replayed")
        done = []
    for position in range(len(done), len(migrations)):
        migration = migrations[position]
        # Marked incomplete first: a file that fails (or commits half-way) must not be trusted later.
        conn.execute(
            f"INSERT INTO {STATE_SCHEMA}.replayed VALUES (%s, %s, %s, false)",
            (position, migration.name, migration.checksum),
        )
        try:
            run_script(conn, migration.name, migration.sql)
        except ApplyError as err:
            raise ShadowReplayError(migration.name, err) from err
        conn.execute(f"UPDATE {STATE_SCHEMA}.replayed SET complete = true WHERE position = %s", (position,))
    return introspect(conn, schemas)


def with_dbname(conninfo: str, dbname: str) -> str:
    return make_conninfo(conninfo, dbname=dbname)


def location(conninfo: str | psycopg.Connection) -> str:
    """`host:port` as Prisma names a database server in its messages."""
    if isinstance(conninfo, psycopg.Connection):
        return f"{conninfo.info.host or 'localhost'}:{conninfo.info.port or 5432}"
    params = conninfo_to_dict(conninfo)
    return f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}"


@contextmanager
def temporary_shadow(conninfo: str) -> Iterator[str]:
    """A new database on the same server as `conninfo`, dropped afterwards, as Prisma creates one."""
    name = f"prisma_migrate_shadow_db_{uuid.uuid4()}"
    try:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as err:
        raise ShadowCreationError(err) from err
    try:
        yield with_dbname(conninfo, name)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
