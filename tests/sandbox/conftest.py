"""A SandboxManager over the session cluster, with tight limits so that the isolation tests run fast."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox import SandboxManager, SandboxSettings, Workspace
from sandbox.cluster import EmbeddedCluster

TEST_SETTINGS = SandboxSettings(
    sandbox_prefix="tsbx",
    pool_size=2,
    statement_timeout_ms=1000,
    lock_timeout_ms=500,
    idle_in_transaction_timeout_ms=2000,
    temp_file_limit_kb=2048,
    work_mem_kb=1024,
    connection_limit=3,
)


@pytest.fixture(scope="session")
def manager(pg_cluster: EmbeddedCluster) -> Iterator[SandboxManager]:
    mgr = SandboxManager.over_cluster(pg_cluster, TEST_SETTINGS, secret="test-secret")
    mgr.start(background=False)
    yield mgr
    for info in mgr.list_workspaces():
        mgr.drop_workspace(info.id)
    mgr.stop()


@pytest.fixture
def workspace(manager: SandboxManager) -> Iterator[Workspace]:
    ws = manager.create_workspace()
    yield ws
    manager.drop_workspace(ws.id)


@pytest.fixture
def other_workspace(manager: SandboxManager) -> Iterator[Workspace]:
    ws = manager.create_workspace()
    yield ws
    manager.drop_workspace(ws.id)
