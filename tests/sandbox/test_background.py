"""The warm-pool refiller and the reaper as background threads, the way the app runs them."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg

from sandbox import SandboxManager, SandboxSettings
from sandbox.cluster import EmbeddedCluster


def wait_until(condition: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_pool_refills_and_reaper_drops_idle_workspaces(pg_cluster: EmbeddedCluster) -> None:
    settings = SandboxSettings(
        sandbox_prefix="tbg", pool_size=2, workspace_ttl_seconds=60, reaper_interval_seconds=0.5
    )
    manager = SandboxManager.over_cluster(pg_cluster, settings, secret="s")
    manager.start(background=True)
    try:

        def pooled() -> int:
            return sum(1 for info in manager.list_workspaces() if info.state == "pool")

        assert wait_until(lambda: pooled() == 2), "the refiller did not fill the pool"
        ws = manager.create_workspace()
        assert wait_until(lambda: pooled() == 2), "the refiller did not replace the workspace handed out"
        with psycopg.connect(ws.server.admin_conninfo()) as conn:
            conn.execute(
                "UPDATE migration_lab_sandbox.workspaces SET last_used_at = now() - interval '2 minutes'"
                " WHERE prefix = 'tbg' AND id = %s",
                (ws.id,),
            )
        # (open_workspace would mark it used: read the registry instead)
        assert wait_until(lambda: manager.registry.get(ws.id) is None), "the reaper left an idle workspace"
        assert ws.databases() == []
        assert pooled() == 2  # warm workspaces are never reaped
    finally:
        manager.pool.stop()
        for info in manager.list_workspaces():
            manager.drop_workspace(info.id)
        manager.stop()
