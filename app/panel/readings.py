"""The panel's last reading of each environment, reused while nothing could have changed the database.

Every view shows each environment's migrations, tables with row counts and drift; reading them costs a
dozen round trips and a catalog fingerprint per environment, and most actions change one environment or
none. A reading (saved with the workspace, so every worker shares it) is reused when:
- the action did not touch the environment (`Workspace.touched`: the platform's kept sessions are the
  one way in that the database's own activity does not show, and every action goes through the handle),
- the database is the same one (its oid), no session was opened on it since the reading (its session
  counter, counting since the same server start and statistics reset: a learner's psql, a grading run,
  live traffic, a command's own connection), and no session but the platform's kept ones is on it now
  (`sandbox.Activity`),
- and the migrations it records, with the files of the same names, are those the drift was found for.
Otherwise the environment is read again, and the reading saved with the activity seen when the action
began, plus the sessions the platform's own kept connections opened on it since (`Workspace.opened`: each
counts in PostgreSQL's counter as it opens, so a first loan does not make the next action read again): the
reading is taken after that, so whatever else happens later shows as activity at the next action.
The one thing that shows a view late: a session that opens and ends while an action runs (between the
activity read and the view), which the next action sees.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.db.workspaces import ENVIRONMENTS, EnvMigration, SavedWorkspace
from app.panel import store
from app.panel.drift import key_of
from app.panel.views import TableCount
from sandbox import Activity, Workspace
from sandbox.migrate import CommandResult, MemoryHistory, Migration, MigrationRecord, migrate_status


@dataclass
class Reading:
    """What the view shows of an environment, as read from its database."""

    records: list[MigrationRecord]
    tables: list[TableCount]
    drift: list[str] | None = None  # what the schema has beyond its applied migrations (None: not known)
    has_table: bool = True  # the database has a `_prisma_migrations` table
    fingerprint: str = ""  # drift.drift_lines's, for the drift found with it ('' when not computed)
    size: int | None = None  # bytes the database takes (pg_database_size), when measured


def applied_migrations(
    history: Sequence[Migration], records: Sequence[MigrationRecord]
) -> list[Migration] | None:
    """The migrations a database records as applied, from `history`; None (no drift to compute) while
    one of them failed half-way (its card already says so) or is unknown to the history."""
    if any(r.finished_at is None and r.rolled_back_at is None for r in records):
        return None
    by_name = {m.name: m for m in history}
    applied = [r.migration_name for r in records if r.finished_at is not None and r.rolled_back_at is None]
    if any(name not in by_name for name in applied):
        return None
    return [by_name[name] for name in sorted(set(applied))]


def drift_key(applied: Sequence[Migration] | None, schemas: Sequence[str]) -> str:
    """drift.key_of (what a drift was found for), short enough to save; for no drift computed too."""
    parts = None if applied is None else key_of(applied, schemas)
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def status_of(history: list[Migration], records: list[MigrationRecord], has_table: bool) -> CommandResult:
    """`migrate status` from a reading, without the database (records given: it does not connect)."""
    return migrate_status(MemoryHistory(list(history)), "", records if has_table else None)


class SavedReadings:
    """The readings saved with a workspace (read once per view)."""

    def __init__(self, workspace: SavedWorkspace) -> None:
        self.workspace = workspace
        try:
            found = json.loads(workspace.env_readings or "{}")
        except ValueError:
            found = {}
        if not isinstance(found, dict):
            found = {}
        self.entries: dict[str, Any] = {env: entry for env, entry in found.items() if isinstance(entry, dict)}

    def reusable(
        self, sandbox: Workspace, history: list[Migration], schemas: Sequence[str]
    ) -> dict[str, Reading]:
        """The environments whose saved reading still holds (their records from the saved state, which
        mirrors the reading)."""
        found = {}
        for env in ENVIRONMENTS:
            entry = self.unchanged(sandbox, env)
            if entry is None:
                continue
            rows = store.records_of(self.workspace, env)
            if any(row.started_at is None for row in rows):  # not a mirror of a reading
                continue
            records = [_record(row) for row in rows]
            if entry.get("drift_key") != drift_key(applied_migrations(history, records), schemas):
                continue
            try:
                tables = [TableCount(str(name), int(rows)) for name, rows in entry["tables"]]
                drift, has_table = entry["drift"], bool(entry["has_table"])
                found[env] = Reading(records, tables, drift, has_table, str(entry.get("fingerprint", "")))
            except (KeyError, TypeError, ValueError):  # written by another version: read again
                continue
        return found

    def sizes(self, sandbox: Workspace) -> dict[str, int]:
        """The size of each environment's database (by name) as its saved reading measured it, for those
        that cannot have changed since (as `reusable` vouches, the saved records aside): the quota need
        not measure them again."""
        found = {}
        for env in ENVIRONMENTS:
            entry = self.unchanged(sandbox, env)
            if entry is not None and isinstance(size := entry.get("size"), int):
                found[sandbox.dbname(env)] = size
        return found

    def unchanged(self, sandbox: Workspace, env: str) -> dict[str, Any] | None:
        """env's saved entry when its database cannot have changed since it was read: not touched by this
        action, the same database with no session opened on it since, and none but the kept ones now."""
        entry, activity = self.entries.get(env), sandbox.activity.get(env)
        if entry is None or activity is None or activity.others or env in sandbox.touched:
            return None
        return entry if entry.get("database") == _token(activity) else None

    def known_drift(self, env: str, key: str) -> tuple[str, list[str] | None] | None:
        """The fingerprint and drift of env's saved reading, valid or not, when found for `key`
        (drift_key): a database read again with that fingerprint still has that drift, whichever worker
        found it."""
        entry = self.entries.get(env)
        if entry is None or not entry.get("fingerprint") or entry.get("drift_key") != key:
            return None
        return str(entry["fingerprint"]), entry.get("drift")

    def remember(
        self,
        sandbox: Workspace,
        fresh: Mapping[str, Reading],
        unreadable: Sequence[str],
        history: list[Migration],
        schemas: Sequence[str],
    ) -> None:
        """Save the readings just taken, each with the activity seen when the action began; forget those
        that cannot be vouched for (no activity known, another session on the database, unreadable)."""
        for env, reading in fresh.items():
            activity = sandbox.activity.get(env)
            if activity is None or activity.others:
                self.entries.pop(env, None)
                continue
            self.entries[env] = {
                # Sessions the platform's kept connections opened during this action count as seen.
                "database": _token(activity, sandbox.opened.get(env, 0)),
                "has_table": reading.has_table,
                "tables": [[t.name, t.rows] for t in reading.tables],
                "drift": reading.drift,
                "drift_key": drift_key(applied_migrations(history, reading.records), schemas),
                "fingerprint": reading.fingerprint,
                "size": reading.size,
            }
        for env in unreadable:
            self.entries.pop(env, None)
        text = json.dumps(self.entries, sort_keys=True) if self.entries else None
        if text != self.workspace.env_readings:
            self.workspace.env_readings = text


def _token(activity: Activity, opened: int = 0) -> list[object]:
    return [activity.oid, activity.sessions + opened, activity.counted_since]


def _record(row: EnvMigration) -> MigrationRecord:
    return MigrationRecord(
        id="",
        checksum=row.checksum,
        finished_at=row.finished_at,
        migration_name=row.migration_name,
        logs=row.logs,
        rolled_back_at=row.rolled_back_at,
        started_at=row.started_at,  # type: ignore[arg-type]  # not None: see reusable
        applied_steps_count=row.applied_steps_count,
    )
