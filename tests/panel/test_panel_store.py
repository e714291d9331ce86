"""The saved-state helpers the panel calls on every action, on both kinds of state database."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from app.db.base import utcnow
from app.db.engine import StateDB, default_database_url, open_state
from app.db.workspaces import Learner, SavedWorkspace
from app.panel import store
from sandbox.migrate import Migration


@pytest.fixture
def state(state_database_url: str, tmp_path: Path) -> Iterator[StateDB]:
    db = open_state(state_database_url or default_database_url(tmp_path), connections=2)
    yield db
    db.engine.dispose()


def test_a_migration_joins_the_loaded_history_in_name_order(state: StateDB) -> None:
    with state.session() as session:
        row = store.create_workspace(session, "a" * 32, "playground", "", limit=5)
        store.append_migration(row, Migration("20260102000000_b", "SELECT 2;"))
        store.append_migration(row, Migration("20260103000000_c", "SELECT 3;"))
        # Older than the last: a history imported or edited by hand is not always in creation order.
        store.append_migration(row, Migration("20260101000000_a", "SELECT 1;"))
        in_memory = [m.name for m in store.history_of(row)]
        session.commit()
        workspace_id = row.id

    assert in_memory == ["20260101000000_a", "20260102000000_b", "20260103000000_c"]
    with state.session() as session:
        saved = session.get(SavedWorkspace, workspace_id)
        assert saved is not None
        assert store.history_of(saved) == [
            Migration("20260101000000_a", "SELECT 1;"),
            Migration("20260102000000_b", "SELECT 2;"),
            Migration("20260103000000_c", "SELECT 3;"),
        ]
        assert [m.checksum for m in saved.migrations] == [m.checksum for m in store.history_of(saved)]


def test_a_learner_seen_lately_costs_no_query_and_an_old_visit_is_written(state: StateDB) -> None:
    learner = secrets.token_hex(16)  # one this process never saw (the memory is the process's)
    with state.session() as session:
        store.create_workspace(session, learner, "playground", "", limit=5)
        session.commit()
    statements: list[str] = []
    event.listen(state.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    with state.session() as session:
        store.note_seen(session, learner)  # read once by this process
        session.commit()
    read = len(statements)
    with state.session() as session:
        store.note_seen(session, learner)
        session.commit()

    assert read >= 1 and len(statements) == read  # the second request read no learner row
    long_ago = utcnow() - store.SEEN_RESOLUTION * 3
    with state.session() as session:
        row = session.get(Learner, learner)
        assert row is not None
        row.last_seen_at = long_ago
        session.commit()
    store._SEEN[learner] = long_ago  # as this process saw it then
    with state.session() as session:
        store.note_seen(session, learner)
        session.commit()
    with state.session() as session:
        row = session.get(Learner, learner)
        assert row is not None and utcnow() - row.last_seen_at < timedelta(minutes=1)
