"""An app per scenario, built by the factory over a chosen lessons folder, with local assets (no internet)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from sandbox.cluster import EmbeddedCluster
from sandbox.config import SandboxSettings
from sandbox.manager import SandboxManager

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="session")
def app_sandboxes(pg_cluster: EmbeddedCluster) -> Iterator[SandboxManager]:
    """The session cluster's sandboxes: an app's lifespan would otherwise start a cluster of its own."""
    manager = SandboxManager.over_cluster(pg_cluster, SandboxSettings(pool_size=0, sandbox_prefix="tapp"))
    manager.start(background=False)
    yield manager
    manager.stop()


@pytest.fixture
def make_app(tmp_path: Path, repo_root: Path, app_sandboxes: SandboxManager) -> Callable[..., FastAPI]:
    def make(lessons_dir: Path | None = None, **overrides: object) -> FastAPI:
        values: dict = {"data_dir": tmp_path / "data", "assets": "local", **overrides}
        settings = Settings(lessons_dir=lessons_dir or repo_root / "lessons", **values)
        return create_app(settings, sandboxes=app_sandboxes)

    return make


@pytest.fixture
def make_client(make_app: Callable[..., FastAPI]) -> Iterator[Callable[..., TestClient]]:
    with ExitStack() as stack:
        yield lambda *args, **kwargs: stack.enter_context(TestClient(make_app(*args, **kwargs)))


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def broken_course() -> Path:
    return FIXTURES / "course_broken"
