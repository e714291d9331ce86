"""The app served as deployed (`migration-lab serve --workers 1`: uvicorn, its thread pool, its event loop)
in a process of its own, once per state database (SQLite and PostgreSQL), its sandbox on the test
session's cluster (`server` provider); clients are plain httpx in this process.

A process of its own, so that the server competes for the interpreter lock with its own threads only, as
in production, not with the forty client threads a test releases at once (in one process, each of the
event loop's many turns per request waited behind them: single /healthz answers of 230 ms)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from served_app import HealthWatch, Served

from app.db import default_database_url, open_state
from sandbox.cluster import EmbeddedCluster
from sandbox.config import SandboxSettings
from sandbox.manager import SandboxManager
from tests.served import start_served, stop_served, wait_ready

PREFIX = "tconc"
SECRET = secrets.token_urlsafe(32)  # the server's and this process's managers derive the same passwords


@pytest.fixture(scope="session")
def sandbox_url(pg_cluster: EmbeddedCluster) -> str:
    return f"postgresql://{pg_cluster.superuser}@/postgres?host={pg_cluster.socket_dir}&port={pg_cluster.port}"


@pytest.fixture(scope="session")
def concurrency_sandboxes(
    sandbox_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SandboxManager]:
    """The served app's sandbox seen from here: to drop what each test created."""
    settings = SandboxSettings(
        sandbox="server", sandbox_url=sandbox_url, sandbox_prefix=PREFIX, sandbox_secret=SECRET, pool_size=0
    )
    manager = SandboxManager.from_settings(settings, data_dir=tmp_path_factory.mktemp("tconc"))
    manager.start(background=False)
    yield manager
    manager.stop()


@pytest.fixture
def served(
    tmp_path: Path, repo_root: Path, sandbox_url: str, concurrency_sandboxes: SandboxManager,
    state_database_url: str,
) -> Iterator[Served]:
    data_dir = tmp_path / "data"
    environment = {
        "MIGRATION_LAB_DATABASE_URL": state_database_url,
        "MIGRATION_LAB_SANDBOX": "server",
        "MIGRATION_LAB_SANDBOX_URL": sandbox_url,
        "MIGRATION_LAB_SANDBOX_PREFIX": PREFIX,
        "MIGRATION_LAB_SANDBOX_SECRET": SECRET,
        "MIGRATION_LAB_POOL_SIZE": "0",
        # Every simulated learner comes from 127.0.0.1: the per-address limits (app.guard) would otherwise
        # turn a class into one hostile client. Here many learners are the point.
        "MIGRATION_LAB_NEW_LEARNERS_PER_CLIENT": "10000/minute",
        "MIGRATION_LAB_WORKSPACES_PER_CLIENT": "10000/minute",
        "MIGRATION_LAB_ACTIONS_PER_CLIENT": "1000",
    }
    log_path = tmp_path / "server.log"
    process, url = start_served(data_dir, repo_root, environment, workers=1, log_path=log_path)
    state = open_state(state_database_url or default_database_url(data_dir), upgrade=False, connections=2)
    try:
        wait_ready(process, url, log_path)
        yield Served(url, state)
    finally:
        stop_served(process)
        state.dispose()
        for workspace in concurrency_sandboxes.registry.all():  # the next test starts from an empty sandbox
            concurrency_sandboxes.drop_workspace(workspace.id)


@pytest.fixture
def health(served: Served) -> Callable[[], HealthWatch]:
    return lambda: HealthWatch(served.url)
