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
began: the reading is taken after that, so whatever happens later shows as activity at the next action.
The one thing that shows a view late: a session that opens and ends while an action runs (between the
activity read and the view), which the next action sees.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.db.workspaces import ENVIRONMENTS, EnvMigration, SavedWorkspace
from app.panel import store
from app.panel.views import TableCount
from sandbox import Activity, Workspace
from sandbox.migrate import CommandResult, MemoryHistory, Migration, MigrationRecord, migrate_status


@dataclass
class Reading:
    """What the view shows of an environment, as read from its database."""

    records: list[MigrationRecord]
    has_table: bool  # the database has a `_prisma_migrations` table
    tables: list[TableCount]
    drift: list[str] | None
    fingerprint: str = ""  # drift.drift_lines's, for the drift found with it ('' when not computed)


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


def drift_key(
    history: Sequence[Migration], records: Sequence[MigrationRecord], schemas: Sequence[str]
) -> str:
    applied = applied_migrations(history, records)
    parts = None if applied is None else [[m.name, m.checksum] for m in applied]
    return hashlib.sha256(json.dumps([parts, list(schemas)]).encode()).hexdigest()[:32]


def reusable(
    workspace: SavedWorkspace, sandbox: Workspace, history: list[Migration], schemas: Sequence[str]
) -> dict[str, Reading]:
    """The environments whose saved reading still holds (their records from the saved state, which
    mirrors the reading)."""
    saved = _load(workspace)
    found = {}
    for env in ENVIRONMENTS:
        entry, activity = saved.get(env), sandbox.activity.get(env)
        if not isinstance(entry, dict) or activity is None or activity.others or env in sandbox.touched:
            continue
        if entry.get("database") != _token(activity):
            continue
        rows = store.records_of(workspace, env)
        if any(row.started_at is None for row in rows):  # not a mirror of a reading
            continue
        records = [_record(row) for row in rows]
        if entry.get("drift_key") != drift_key(history, records, schemas):
            continue
        try:
            tables = [TableCount(str(name), int(rows)) for name, rows in entry["tables"]]
            found[env] = Reading(
                records, bool(entry["has_table"]), tables, entry["drift"], str(entry.get("fingerprint", ""))
            )
        except (KeyError, TypeError, ValueError):  # written by another version: read again
            continue
    return found


def known_drift(workspace: SavedWorkspace) -> dict[str, tuple[str, str, list[str] | None]]:
    """Each saved reading's drift key, fingerprint and drift, valid or not: a database read again whose
    fingerprint and key are still those has that drift (found by whichever worker read it)."""
    return {
        env: (str(entry.get("drift_key")), str(entry["fingerprint"]), entry.get("drift"))
        for env, entry in _load(workspace).items()
        if isinstance(entry, dict) and entry.get("fingerprint")
    }


def status_of(history: list[Migration], records: list[MigrationRecord], has_table: bool) -> CommandResult:
    """`migrate status` from a reading, without the database (records given: it does not connect)."""
    return migrate_status(MemoryHistory(list(history)), "", records if has_table else None)


def remember(
    workspace: SavedWorkspace,
    sandbox: Workspace,
    fresh: dict[str, Reading],
    unreadable: Sequence[str],
    history: list[Migration],
    schemas: Sequence[str],
) -> None:
    """Save the readings just taken, each with the activity seen when the action began; forget those
    that cannot be vouched for (no activity known, another session on the database, unreadable)."""
    saved = _load(workspace)
    for env, reading in fresh.items():
        activity = sandbox.activity.get(env)
        if activity is None or activity.others:
            saved.pop(env, None)
            continue
        saved[env] = {
            "database": _token(activity),
            "has_table": reading.has_table,
            "tables": [[t.name, t.rows] for t in reading.tables],
            "drift": reading.drift,
            "drift_key": drift_key(history, reading.records, schemas),
            "fingerprint": reading.fingerprint,
        }
    for env in unreadable:
        saved.pop(env, None)
    text = json.dumps(saved, sort_keys=True) if saved else None
    if text != workspace.env_readings:
        workspace.env_readings = text


def _token(activity: Activity) -> list[object]:
    return [activity.oid, activity.sessions, activity.counted_since]


def _load(workspace: SavedWorkspace) -> dict[str, Any]:
    try:
        found = json.loads(workspace.env_readings or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


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
