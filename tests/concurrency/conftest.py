"""The app served by uvicorn on 127.0.0.1 (real sockets, real thread pool, real event loop), over the test
session's cluster, once per state database (SQLite and PostgreSQL); clients are plain httpx."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from served_app import HealthWatch, Served

from app.main import create_app
from app.settings import Settings
from sandbox.cluster import EmbeddedCluster
from sandbox.config import SandboxSettings
from sandbox.manager import SandboxManager


@pytest.fixture(scope="session")
def concurrency_sandboxes(pg_cluster: EmbeddedCluster) -> Iterator[SandboxManager]:
    manager = SandboxManager.over_cluster(pg_cluster, SandboxSettings(pool_size=0, sandbox_prefix="tconc"))
    manager.start(background=False)
    yield manager
    manager.stop()


@pytest.fixture
def served(
    tmp_path: Path, repo_root: Path, concurrency_sandboxes: SandboxManager, state_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Served]:
    # Every simulated learner comes from 127.0.0.1: the per-address limits (app.guard) would otherwise
    # turn a class into one hostile client. Here many learners are the point.
    monkeypatch.setenv("MIGRATION_LAB_NEW_LEARNERS_PER_CLIENT", "10000/minute")
    monkeypatch.setenv("MIGRATION_LAB_WORKSPACES_PER_CLIENT", "10000/minute")
    monkeypatch.setenv("MIGRATION_LAB_ACTIONS_PER_CLIENT", "1000")
    settings = Settings(
        data_dir=tmp_path / "data", lessons_dir=repo_root / "lessons", assets="local",
        database_url=state_database_url,
    )
    app = create_app(settings, sandboxes=concurrency_sandboxes)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started, "uvicorn did not start"
        yield Served(f"http://127.0.0.1:{sock.getsockname()[1]}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        for workspace in concurrency_sandboxes.registry.all():  # the next test starts from an empty sandbox
            concurrency_sandboxes.drop_workspace(workspace.id)


@pytest.fixture
def health(served: Served) -> Callable[[], HealthWatch]:
    return lambda: HealthWatch(served.url)
