"""The app state's Alembic migrations build the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text

from app.db import Base, default_database_url, open_state
from app.db.engine import create_state_engine
from app.db.exercises import ExerciseProgress
from app.db.migrations import alembic_config
from app.db.workspaces import Learner, SavedWorkspace, WorkspaceMigration

OWN_TABLES = {"learners", "workspaces", "workspace_migrations", "env_migrations", "backups"}


def _differences(state) -> list:
    own = MetaData(naming_convention=Base.metadata.naming_convention)
    for name in OWN_TABLES:
        Base.metadata.tables[name].to_metadata(own)
    with state.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), own)
    # Other features' tables and indexes show up as "remove_…": not ours to judge.
    return [d for d in diffs if _table_of(d) in OWN_TABLES]


def _table_of(diff) -> str | None:
    if isinstance(diff, list):  # modify_* entries: (op, schema, table, column, ...)
        return diff[0][2]
    obj = diff[1]
    table = getattr(obj, "table", None)
    return getattr(obj, "name", None) if table is None else table.name


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request, tmp_path: Path, fresh_db: str) -> str:
    if request.param == "sqlite":
        return default_database_url(tmp_path)
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(fresh_db)
    return f"postgresql+psycopg://{params['user']}@/{params['dbname']}?host={params['host']}&port={params['port']}"


def test_migrations_create_the_models_tables(state_url: str) -> None:
    state = open_state(state_url)
    try:
        assert OWN_TABLES <= set(inspect(state.engine).get_table_names())
        assert _differences(state) == []
    finally:
        state.dispose()


def test_opening_twice_is_idempotent_and_keeps_rows(state_url: str) -> None:
    state = open_state(state_url)
    with state.session() as session:
        session.add(Learner(id="a" * 32))
        session.flush()
        workspace = SavedWorkspace(learner_id="a" * 32, context="playground", schema_text="model A {}")
        session.add(workspace)
        session.flush()
        session.add(
            WorkspaceMigration(workspace_id=workspace.id, name="1_init", sql="SELECT 1", checksum="x")
        )
    state.dispose()
    again = open_state(state_url)
    with again.session() as session:
        [workspace] = session.query(SavedWorkspace).all()
        assert workspace.schema_text == "model A {}"
        assert [m.name for m in workspace.migrations] == ["1_init"]
        assert workspace.created_at.tzinfo is not None
    again.dispose()


def test_an_existing_database_upgrades_and_keeps_its_progress_rows(state_url: str) -> None:
    """A state database made before 0003 (with exercise_progress.last_visit_at) reaches head on open,
    its rows intact and the unread column gone."""
    engine = create_state_engine(state_url)
    config = alembic_config(engine)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002_exercises")
        conn.execute(text("INSERT INTO learners (id, created_at, last_seen_at) VALUES (:id, :now, :now)"),
                     {"id": "b" * 32, "now": datetime.now(UTC)})
        conn.execute(
            text("INSERT INTO exercise_progress"
                 " (learner_id, exercise_id, hints_opened, answers, last_visit_at)"
                 " VALUES (:id, 'l/e', 2, '{}', :now)"),
            {"id": "b" * 32, "now": datetime.now(UTC)},
        )
    engine.dispose()
    state = open_state(state_url)
    try:
        columns = {c["name"] for c in inspect(state.engine).get_columns("exercise_progress")}
        assert "last_visit_at" not in columns and {"learner_id", "hints_opened", "passed_at"} <= columns
        with state.session() as session:
            [row] = session.query(ExerciseProgress).all()
            assert (row.learner_id, row.exercise_id, row.hints_opened) == ("b" * 32, "l/e", 2)
            session.add(ExerciseProgress(learner_id="b" * 32, exercise_id="l/f"))  # the model fits the table
    finally:
        state.dispose()
