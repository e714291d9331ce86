"""Exercises from the real content and grading databases on the session's PostgreSQL cluster."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.exercises.databases import GradingDatabases
from app.exercises.grading import GradeResult, Submission, grade
from app.exercises.loader import load_exercises
from app.exercises.model import Exercise, Migration
from app.exercises.prove import deploy_history, learner_envs

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "exercises"


@pytest.fixture(scope="session")
def grading_dbs(pg_cluster) -> Iterator[GradingDatabases]:
    dbs = GradingDatabases(pg_cluster.admin_conninfo())
    yield dbs
    dbs.drop_all()
    dbs.close()


@pytest.fixture(scope="session")
def exercises(repo_root: Path) -> dict[str, Exercise]:
    loaded = load_exercises(repo_root / "lessons")
    assert loaded.problems == []
    return loaded.by_id()


@contextmanager
def workspace(dbs: GradingDatabases, exercise: Exercise, history: list[Migration], deploy: list[str]):
    """A learner's dev/staging/prod from the start state, with `history` created (dev) and deployed."""
    with learner_envs(dbs, exercise) as envs:
        for env in ["dev", *deploy]:
            assert deploy_history(envs[env], history) is None
        yield envs


@pytest.fixture
def grade_with(grading_dbs) -> Callable[..., GradeResult]:
    def run(exercise: Exercise, new: list[Migration], deploy=(), answers=None) -> GradeResult:
        history = [*exercise.start.migrations, *new]
        with workspace(grading_dbs, exercise, history, list(deploy)) as conninfo:
            submission = Submission(history, answers or {}, conninfo, grade_untouched=True)
            return grade(exercise, submission, grading_dbs)

    return run


@pytest.fixture(scope="session")
def exercise_sandboxes(pg_cluster):
    from sandbox.config import SandboxSettings
    from sandbox.manager import SandboxManager

    manager = SandboxManager.over_cluster(pg_cluster, SandboxSettings(pool_size=0, sandbox_prefix="tex"))
    manager.start(background=False)
    yield manager
    manager.stop()


@pytest.fixture
def make_exercise_app(tmp_path: Path, repo_root: Path, exercise_sandboxes, monkeypatch, state_database_url):
    from app.main import create_app
    from app.settings import Settings

    def make(lessons: Path | None = None, **env: str):
        for name, value in env.items():
            monkeypatch.setenv(f"MIGRATION_LAB_{name.upper()}", value)
        settings = Settings(lessons_dir=lessons or repo_root / "lessons", data_dir=tmp_path / "data",
                            assets="local", database_url=state_database_url)
        return create_app(settings, sandboxes=exercise_sandboxes)

    return make


@pytest.fixture
def client(make_exercise_app):
    from fastapi.testclient import TestClient

    with TestClient(make_exercise_app()) as test_client:
        yield test_client
