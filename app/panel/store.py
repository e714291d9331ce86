"""Reading and writing a workspace's saved state (app.state models) for the panel."""

from __future__ import annotations

import bisect
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.upsert import insert_missing
from app.db.workspaces import Backup, EnvMigration, Learner, SavedWorkspace, WorkspaceMigration
from app.panel.views import BackupView
from sandbox.migrate import Migration, MigrationRecord

SEEN_RESOLUTION = timedelta(minutes=5)


class WorkspaceLimitReached(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"You already have {limit} sandboxes, the most one learner may keep. "
            "Use the ones you have (the playground is always there)."
        )


def touch_learner(session: Session, learner_id: str) -> Learner:
    """The learner's row, created when missing (an upsert: two first requests at once are fine)."""
    learner = session.get(Learner, learner_id)
    if learner is None:  # reading first keeps a known learner's request free of any write
        insert_missing(session, Learner, ("id",), id=learner_id, created_at=utcnow(), last_seen_at=utcnow())
        learner = session.get(Learner, learner_id, populate_existing=True)
        assert learner is not None
    elif utcnow() - learner.last_seen_at > SEEN_RESOLUTION:  # not a write on every request
        learner.last_seen_at = utcnow()
    return learner


# When this process last saw each learner's last_seen_at (its value): while that is fresh, a request of a
# learner whose workspace was just found reads no learner row at all (a query per request otherwise).
_SEEN: OrderedDict[str, datetime] = OrderedDict()
_SEEN_MAX = 20_000
_SEEN_LOCK = threading.Lock()


def note_seen(session: Session, learner_id: str) -> None:
    """`touch_learner` for a learner known to exist (one of its workspaces was just read)."""
    with _SEEN_LOCK:
        seen = _SEEN.get(learner_id)
    if seen is not None and utcnow() - seen <= SEEN_RESOLUTION:
        return
    seen = touch_learner(session, learner_id).last_seen_at
    with _SEEN_LOCK:
        _SEEN[learner_id] = seen
        _SEEN.move_to_end(learner_id)
        while len(_SEEN) > _SEEN_MAX:
            _SEEN.popitem(last=False)


def find_workspace(session: Session, learner_id: str, context: str) -> SavedWorkspace | None:
    return session.scalar(
        select(SavedWorkspace)
        .where(SavedWorkspace.learner_id == learner_id, SavedWorkspace.context == context)
    )


def create_workspace(
    session: Session, learner_id: str, context: str, schema_text: str, limit: int
) -> SavedWorkspace:
    touch_learner(session, learner_id)
    owned = select(func.count()).select_from(SavedWorkspace).where(SavedWorkspace.learner_id == learner_id)
    count = session.scalar(owned)
    if (count or 0) >= limit:
        raise WorkspaceLimitReached(limit)
    workspace = SavedWorkspace(learner_id=learner_id, context=context, schema_text=schema_text)
    session.add(workspace)
    session.flush()
    return workspace


def history_of(workspace: SavedWorkspace) -> list[Migration]:
    """The workspace's saved migration history, in order: the one place it is read (panel, exercises,
    project download)."""
    return [Migration(m.name, m.sql) for m in workspace.migrations]


def add_migration(session: Session, workspace: SavedWorkspace, migration: Migration) -> None:
    session.add(
        WorkspaceMigration(
            workspace_id=workspace.id, name=migration.name, sql=migration.sql, checksum=migration.checksum
        )
    )


def append_migration(workspace: SavedWorkspace, migration: Migration) -> None:
    """Add a migration to the workspace's loaded history, in name order, as `history_of` reads it: the
    collection then need not be loaded again (which cost every Create migration a query and a row
    object per migration of the history)."""
    names = [m.name for m in workspace.migrations]
    row = WorkspaceMigration(name=migration.name, sql=migration.sql, checksum=migration.checksum)
    workspace.migrations.insert(bisect.bisect_right(names, migration.name), row)


def remove_migration(session: Session, workspace: SavedWorkspace, name: str) -> None:
    for row in list(workspace.migrations):
        if row.name == name:
            workspace.migrations.remove(row)
    for record in [r for r in workspace.env_records if r.migration_name == name]:
        workspace.env_records.remove(record)
    session.flush()


def edit_migration(workspace: SavedWorkspace, name: str, sql: str) -> None:
    for row in workspace.migrations:
        if row.name == name:
            row.sql = sql
            row.checksum = Migration(name, sql).checksum
            return
    raise KeyError(name)


def records_of(workspace: SavedWorkspace, env: str) -> list[EnvMigration]:
    return [r for r in workspace.env_records if r.env == env]


RECORD_FIELDS = (
    "migration_name", "checksum", "started_at", "finished_at", "rolled_back_at", "logs",
    "applied_steps_count",
)  # fmt: skip


def save_env_records(
    session: Session, workspace: SavedWorkspace, env: str, records: Iterable[MigrationRecord]
) -> None:
    """Mirror an environment's `_prisma_migrations` so a rebuilt database gets the same history. Rows are
    changed in place, position by position: an action changes a record or two, and deleting and inserting
    the whole history again made each migration and deploy cost more than the last (in a class making 50
    actions per learner, the median action latency climbed from 0.7 to 1.6 s)."""
    old = records_of(workspace, env)
    new = list(records)
    for row, record in zip(old, new, strict=False):
        for name in RECORD_FIELDS:
            if getattr(row, name) != (value := getattr(record, name)):
                setattr(row, name, value)
    for position in range(len(old), len(new)):
        values = {name: getattr(new[position], name) for name in RECORD_FIELDS}
        workspace.env_records.append(EnvMigration(env=env, position=position, **values))
    for row in old[len(new) :]:
        workspace.env_records.remove(row)


def add_backup(workspace: SavedWorkspace, env: str, label: str, snapshot: str, applied: list[str]) -> Backup:
    backup = Backup(env=env, label=label, snapshot=snapshot, applied=json.dumps(applied))
    workspace.backups.append(backup)
    return backup


def backup_applied(backup: Backup) -> list[str]:
    return list(json.loads(backup.applied or "[]"))


def backup_view(backup: Backup, rows_kept: bool = True) -> BackupView:
    return BackupView(id=backup.id, label=backup.label, taken_at=backup.taken_at, rows_kept=rows_kept)
