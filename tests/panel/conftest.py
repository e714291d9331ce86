"""Panel tests: an app per test over the session's PostgreSQL cluster, driven through the ASGI client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from panel_helpers import Panel

from app.main import create_app
from app.settings import Settings
from sandbox.cluster import EmbeddedCluster
from sandbox.config import SandboxSettings
from sandbox.manager import SandboxManager


@pytest.fixture(scope="session")
def sandboxes(pg_cluster: EmbeddedCluster) -> Iterator[SandboxManager]:
    manager = SandboxManager.over_cluster(pg_cluster, SandboxSettings(pool_size=0, sandbox_prefix="tpanel"))
    manager.start(background=False)
    yield manager
    manager.stop()


@pytest.fixture(autouse=True)
def drop_workspaces_afterwards(sandboxes: SandboxManager) -> Iterator[None]:
    """The tests' workspaces are dropped every few tests: the session's manager would otherwise reach
    MAX_WORKSPACES (and the cluster hold hundreds of databases) before the last panel test; dropping them
    after each test made the panel tests a third slower."""
    yield
    workspaces = sandboxes.list_workspaces()
    if len(workspaces) > sandboxes.settings.max_workspaces // 3:
        for info in workspaces:
            sandboxes.drop_workspace(info.id)


@pytest.fixture
def make_panel_app(
    tmp_path: Path, repo_root: Path, sandboxes: SandboxManager, state_database_url: str
) -> Callable[..., FastAPI]:
    def make(data_dir: Path | None = None, **overrides: object) -> FastAPI:
        values: dict = {
            "data_dir": data_dir or tmp_path / "data", "assets": "local", "database_url": state_database_url,
            **overrides,
        }
        return create_app(Settings(lessons_dir=repo_root / "lessons", **values), sandboxes=sandboxes)

    return make


@pytest.fixture
def make_client(make_panel_app: Callable[..., FastAPI]) -> Iterator[Callable[..., TestClient]]:
    with ExitStack() as stack:
        yield lambda *args, **kwargs: stack.enter_context(TestClient(make_panel_app(*args, **kwargs)))


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def panel(client: TestClient) -> Panel:
    return Panel(client)
