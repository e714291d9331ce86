"""The databases behind a saved workspace: rebuild them from the saved state (app.panel.rebuild), mirror
what each environment applied back into it, and read them for the panel's view."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import psycopg
from sqlalchemy.orm import Session

from app.db.workspaces import ENVIRONMENTS, EnvMigration, SavedWorkspace
from app.panel import readings, store
from app.panel.db_errors import learner_caused, unreadable
from app.panel.drift import drift_lines, expected_schema, in_sync, remember_fingerprint_in_sync
from app.panel.rebuild import RebuildReport as RebuildReport
from app.panel.rebuild import StartSource as StartSource
from app.panel.rebuild import StartTemplate as StartTemplate
from app.panel.rebuild import rebuild as rebuild
from app.panel.sql_console import table_counts
from app.panel.starter import PreparedEnv
from app.panel.views import EnvCard, MigrationRow, MigrationState
from sandbox import Workspace
from sandbox.migrate import (
    CommandResult,
    KnownSchemas,
    MemoryHistory,
    Migration,
    MigrationFailure,
    MigrationRecord,
    SqlSchema,
    failure_of_logs,
    migrate_status,
    read_records,
)
from sandbox.prisma import SchemaError, to_sql_schema

# The session's timeout for the reads, and in the same round trip the size of the database for the quota
# (app.panel.readings: saved, it spares the next action's check measuring it). A learner may take their
# own CONNECT right away: the size is then left to the quota check's admin session.
READ_TIMEOUT_AND_SIZE = (
    "SELECT pg_catalog.set_config('statement_timeout', '2s', false),"
    " CASE WHEN pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CONNECT')"
    " THEN pg_catalog.pg_database_size(pg_catalog.current_database()) END"
)


@dataclass
class EnvSnapshot(readings.Reading):
    status: CommandResult | None = None  # `migrate status` against `history`, when read() was given one
    error: str = ""  # the environment could not be read (SQL run there broke what the panel reads)


def read(
    sandbox: Workspace,
    history: list[Migration] | None = None,
    schemas: Sequence[str] = ("public",),
    skip: Collection[str] = (),
    saved: readings.SavedReadings | None = None,
) -> dict[str, EnvSnapshot]:
    """Each environment's `_prisma_migrations` rows and tables with row counts, and with `history` its
    `migrate status` and drift in `schemas` (the datasource's), one connection each; but those in `skip`.
    `saved`: the readings saved earlier, whose drift holds for an unchanged schema."""
    snapshots = {}
    for env in ENVIRONMENTS:
        if env in skip:
            continue
        try:
            with sandbox.observing(env) as conn:
                # A learner's row-level-security policy or a view in place of a table can make reading
                # slow or fail: the panel then says so on that environment's card instead of failing.
                row = conn.execute(READ_TIMEOUT_AND_SIZE).fetchone()
                size = row[1] if row else None
                records = read_records(conn)
                tables = table_counts(conn)
                snapshot = EnvSnapshot(records or [], tables, has_table=records is not None, size=size)
                snapshots[env] = snapshot
                if history is not None:
                    snapshot.status = migrate_status(MemoryHistory(list(history)), conn, records)
                    found = _drift(conn, sandbox, env, history, snapshot, schemas, saved)
                    snapshot.fingerprint, snapshot.drift = found
        except psycopg.Error as exc:
            if not learner_caused(exc):
                raise
            snapshots[env] = EnvSnapshot([], [], error=unreadable(env, exc))
    return snapshots


def _drift(
    conn: psycopg.Connection,
    sandbox: Workspace,
    env: str,
    history: list[Migration],
    snapshot: EnvSnapshot,
    schemas: Sequence[str],
    saved: readings.SavedReadings | None,
) -> tuple[str, list[str] | None]:
    """The fingerprint and drift against the migrations this database records as applied (see
    readings.applied_migrations): none while that is not known."""
    migrations = readings.applied_migrations(history, snapshot.records)
    if migrations is None:
        return "", None
    known = saved.known_drift(env, readings.drift_key(migrations, schemas)) if saved is not None else None
    return drift_lines(conn, lambda: sandbox.reading("shadow"), migrations, schemas, known)


def known_schemas(sandbox: Workspace, env: str, workspace: SavedWorkspace) -> KnownSchemas:
    """What `migrate dev` on `env` can take from the panel instead of doing it again: replays from the
    cache of them (on the workspace's shadow when missing), and the drift found for the database's
    present fingerprint (here, or saved with the workspace by another worker), or for its reading while
    nothing could have changed it since. Call it before lending the command a session on `env`."""
    saved = readings.SavedReadings(workspace)
    # Taken now, before the command's loan touches the database: while the reading holds, the database
    # is what it read, and a reading without drift for the same migrations needs no fingerprint again.
    unchanged = saved.unchanged(sandbox, env)

    def known_in_sync(conn: psycopg.Connection, applied: Sequence[Migration], schemas: Sequence[str]) -> bool:
        key = readings.drift_key(applied, schemas)
        if unchanged is not None and unchanged.get("drift_key") == key and unchanged.get("drift") == []:
            return True
        return in_sync(conn, applied, schemas, saved.known_drift(env, key))

    def replayed(applied: Sequence[Migration], schemas: Sequence[str]) -> SqlSchema:
        return expected_schema(lambda: sandbox.reading("shadow"), applied, schemas)

    return KnownSchemas(replayed=replayed, in_sync=known_in_sync)


def sync(
    session: Session, workspace: SavedWorkspace, sandbox: Workspace, history: list[Migration] | None = None
) -> dict[str, EnvSnapshot]:
    """Read every environment (with `history`, its status too; reusing the saved reading of those that
    cannot have changed, see app.panel.readings) and mirror what each applied into the saved state."""
    schemas = datasource_schemas(workspace.schema_text)
    if history is None:
        snapshots = read(sandbox, None, schemas)
        save(session, workspace, snapshots)
        return snapshots
    saved = readings.SavedReadings(workspace)
    kept = saved.reusable(sandbox, history, schemas)
    snapshots = read(sandbox, history, schemas, skip=kept, saved=saved)
    save(session, workspace, snapshots)
    unreadable = [env for env, s in snapshots.items() if s.error]
    fresh = {env: s for env, s in snapshots.items() if not s.error}
    saved.remember(sandbox, fresh, unreadable, history, schemas)
    for env, reading in kept.items():
        status = readings.status_of(history, reading.records, reading.has_table)
        snapshots[env] = EnvSnapshot(**vars(reading), status=status)
    return snapshots


def adopt_prepared(
    session: Session,
    workspace: SavedWorkspace,
    sandbox: Workspace,
    history: list[Migration],
    prepared: dict[str, PreparedEnv],
) -> bool:
    """Take what the warm pool read of each environment right after preparing it as this workspace's
    reading (app.panel.readings), when nothing happened to the databases since (their activity says
    so): a first visit then opens no session on them. False when that cannot be vouched for."""
    if any((a := sandbox.activity.get(env)) is None or a.others for env in ENVIRONMENTS):
        return False
    snapshots = {
        env: EnvSnapshot(p.records, p.tables, drift=[], fingerprint=p.fingerprint[0])
        for env, p in prepared.items()
    }
    save(session, workspace, snapshots)
    schemas = datasource_schemas(workspace.schema_text)
    readings.SavedReadings(workspace).remember(sandbox, snapshots, [], history, schemas)
    for found in prepared.values():  # built from empty by `history`: no drift until it changes
        remember_fingerprint_in_sync(found.fingerprint, history, schemas)
    return True


def save(session: Session, workspace: SavedWorkspace, snapshots: dict[str, EnvSnapshot]) -> None:
    """Mirror what each environment applied into the saved state (written only when it changed)."""
    for env, snapshot in snapshots.items():
        if snapshot.error:
            continue  # unreadable: keep what was saved, so a rebuild still knows what it applied
        saved = [_key(r) for r in store.records_of(workspace, env)]
        if saved != [_key(r) for r in snapshot.records]:
            store.save_env_records(session, workspace, env, snapshot.records)


def _key(record: MigrationRecord | EnvMigration) -> tuple:
    return (
        record.migration_name,
        record.checksum,
        record.started_at,
        record.finished_at,
        record.rolled_back_at,
        record.logs,
        record.applied_steps_count,
    )


def migration_state(records: list[MigrationRecord | EnvMigration], checksum: str) -> MigrationState:
    live = [r for r in records if r.rolled_back_at is None]
    if any(r.finished_at is not None for r in live):
        applied = next(r for r in live if r.finished_at is not None)
        return "applied" if applied.checksum == checksum else "edited"
    if live:
        return "failed"
    return "rolled back" if records else "pending"


def history_rows(workspace: SavedWorkspace) -> list[MigrationRow]:
    """Each migration's state in each environment, from the saved (just synced) records."""
    by_env = {env: store.records_of(workspace, env) for env in ENVIRONMENTS}
    # Grouped once by name: a history of a few hundred migrations made the per-migration scans quadratic.
    by_name: dict[tuple[str, str], list[MigrationRecord | EnvMigration]] = {}
    for env, records in by_env.items():
        for record in records:
            by_name.setdefault((env, record.migration_name), []).append(record)
    rows = []
    for migration in workspace.migrations:
        states = {
            env: migration_state(by_name.get((env, migration.name), []), migration.checksum)
            for env in ENVIRONMENTS
        }
        rows.append(MigrationRow(migration.name, states))
    known = {m.name for m in workspace.migrations}
    for env, records in by_env.items():
        for record in records:
            if record.migration_name not in known:
                row = next((r for r in rows if r.name == record.migration_name), None)
                if row is None:
                    row = MigrationRow(record.migration_name, {})
                    rows.append(row)
                row.states[env] = "missing"
    return rows


def env_cards(
    workspace: SavedWorkspace, sandbox: Workspace, history: list[Migration], snapshots: dict[str, EnvSnapshot]
) -> list[EnvCard]:
    cards = []
    for env in ENVIRONMENTS:
        if snapshots[env].error:
            cards.append(
                EnvCard(env=env, url=sandbox.url(env), status=[], in_sync=False, notice=snapshots[env].error,
                        notice_ok=False)
            )
            continue
        status = snapshots[env].status
        if status is None:
            status = migrate_status(MemoryHistory(list(history)), sandbox.conninfo(env))
        drift = snapshots[env].drift
        cards.append(
            EnvCard(
                env=env,
                url=sandbox.url(env),
                status=status_lines(status),
                in_sync=status.exit_code == 0 and not drift,
                tables=snapshots[env].tables,
                failure=_failure(snapshots[env].records),
                drift=drift or [],
                drift_checked=drift is not None,
            )
        )
    prod = next(card for card in cards if card.env == "prod")
    backups = [backup for backup in workspace.backups if backup.env == "prod"]
    kept = set(sandbox.backups()) if backups else set()
    prod.backups = [store.backup_view(backup, rows_kept=backup.snapshot in kept) for backup in backups]
    return cards


def _failure(records: list[MigrationRecord]) -> MigrationFailure | None:
    failed = next((r for r in records if r.finished_at is None and r.rolled_back_at is None), None)
    if failed is None:
        return None
    found = failure_of_logs(failed.logs)
    found.migration = found.migration or failed.migration_name
    return found


def status_lines(status: CommandResult) -> list[str]:
    """What `migrate status` found (Prisma's message when it could not tell), without count or advice."""
    lines = status.report or [line for line in status.message.splitlines() if line.strip()]
    return lines or ["Database schema is up to date!"]


@functools.lru_cache(maxsize=512)
def datasource_schemas(schema_text: str) -> tuple[str, ...]:
    """The schemas the datasource lists (`schemas = [...]`), else public; public too while the saved
    schema.prisma does not parse (its errors show in the editor)."""
    try:
        return tuple(to_sql_schema(schema_text).listed)
    except SchemaError:
        return ("public",)
