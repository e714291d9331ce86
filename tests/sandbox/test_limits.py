"""Limits of the sandbox as a whole: the connection budget, the number of workspaces, free space, the
per-workspace quota (refused on demand, enforced by the watchdog), and a cluster that heals itself."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import psycopg
import pytest

from sandbox import SandboxManager, SandboxSettings
from sandbox.cluster import EmbeddedCluster
from sandbox.providers import QuotaExceeded, SandboxError, SandboxFull
from sandbox.providers.embedded import EmbeddedProvider

FILL = "CREATE TABLE big AS SELECT repeat('x', 1000) AS pad FROM generate_series(1, {rows})"


def manager_over(cluster: EmbeddedCluster, **settings: object) -> SandboxManager:
    values: dict = {"sandbox_prefix": "tlim", "pool_size": 0, **settings}
    mgr = SandboxManager.over_cluster(cluster, SandboxSettings(**values), secret="s")
    mgr.start(background=False)
    return mgr


def test_a_connection_budget_that_does_not_fit_refuses_to_start(pg_cluster: EmbeddedCluster) -> None:
    with pytest.raises(SandboxError) as refused:
        manager_over(pg_cluster, connection_limit=10, max_workspaces=500, reserved_connections=20)
    message = str(refused.value)
    assert "CONNECTION_LIMIT 10 x MAX_WORKSPACES 500 + RESERVED_CONNECTIONS 20 = 5020" in message
    assert "max_connections" in message


def test_workspaces_stop_at_the_maximum_with_a_message(pg_cluster: EmbeddedCluster) -> None:
    mgr = manager_over(pg_cluster, max_workspaces=2)
    try:
        first, second = mgr.create_workspace(), mgr.create_workspace()
        with pytest.raises(SandboxFull, match="MIGRATION_LAB_MAX_WORKSPACES"):
            mgr.create_workspace()
        mgr.drop_workspace(first.id)
        mgr.drop_workspace(mgr.create_workspace().id)  # room again
        mgr.drop_workspace(second.id)
    finally:
        mgr.stop()


def test_a_full_sandbox_still_has_room_while_its_pool_has_a_workspace(pg_cluster: EmbeddedCluster) -> None:
    """A pool filled for a class counts in the maximum: its workspaces are still there to hand out."""
    mgr = manager_over(pg_cluster, max_workspaces=2, pool_size=2)
    try:
        mgr.fill_pool()
        mgr.check_room()  # full, but two are ready
        first = mgr.create_workspace(warm=True)
        mgr.check_room()  # one is still ready
        second = mgr.create_workspace(warm=True)
        with pytest.raises(SandboxFull, match="MIGRATION_LAB_MAX_WORKSPACES"):
            mgr.check_room()  # none ready and no room to build one
        assert {first.id, second.id} <= {info.id for info in mgr.list_workspaces()}
    finally:
        for info in mgr.list_workspaces():
            mgr.drop_workspace(info.id)
        mgr.stop()


def test_a_disk_under_the_free_space_floor_refuses_new_workspaces(pg_cluster: EmbeddedCluster) -> None:
    mgr = manager_over(pg_cluster, min_free_mb=10**9)  # more than any disk has
    try:
        with pytest.raises(SandboxFull, match="MIGRATION_LAB_MIN_FREE_MB"):
            mgr.create_workspace()
        assert mgr.list_workspaces() == []
    finally:
        mgr.stop()


def test_the_quota_counts_data_beyond_empty_databases_and_names_the_way_out(pg_cluster) -> None:
    mgr = manager_over(pg_cluster, workspace_quota_mb=8)
    try:
        ws = mgr.create_workspace()
        assert mgr.workspace_bytes(ws.id) < 2 * 1024 * 1024  # four empty databases hold no data
        mgr.check_quota(ws.id)
        with psycopg.connect(ws.conninfo("prod"), autocommit=True) as conn:
            conn.execute(FILL.format(rows=12000).encode())
        with pytest.raises(QuotaExceeded) as over:
            mgr.check_quota(ws.id)
        assert "the limit is 8 MiB per sandbox" in str(over.value) and "Reset dev" in str(over.value)
        ws.reset_env("prod")
        mgr.check_quota(ws.id)  # the way out works
        mgr.drop_workspace(ws.id)
    finally:
        mgr.stop()


def test_the_watchdog_cancels_a_query_growing_a_workspace_past_its_quota(pg_cluster) -> None:
    mgr = manager_over(pg_cluster, workspace_quota_mb=16, statement_timeout_ms=60000)
    ws = mgr.create_workspace()
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.2):
            mgr.watchdog()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with psycopg.connect(ws.conninfo("dev"), autocommit=True) as conn:
            started = time.monotonic()
            with pytest.raises(psycopg.errors.QueryCanceled):
                conn.execute(FILL.format(rows=700000).encode())  # the 800 MB in about a second
            assert time.monotonic() - started < 30
        assert ws.id in mgr.over_quota
        assert mgr.workspace_bytes(ws.id) < 64 * 1024 * 1024  # the aborted table's files are gone
    finally:
        stop.set()
        watcher.join()
        mgr.drop_workspace(ws.id)
        mgr.stop()


def test_a_killed_cluster_is_restarted_and_workspaces_come_back(tmp_path: Path) -> None:
    provider = EmbeddedProvider.create(tmp_path, max_connections=130)
    settings = SandboxSettings(sandbox_prefix="theal", pool_size=0, max_workspaces=10)
    mgr = SandboxManager(provider, settings, secret="s")
    mgr.start(background=False)
    try:
        ws = mgr.create_workspace()
        assert mgr.healthy()
        pid = int((provider.cluster.pgdata / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            if not provider.cluster.postmaster_alive():
                break
            time.sleep(0.05)
        assert not mgr.healthy()
        started = time.monotonic()
        assert mgr.watchdog() == 0  # the watchdog finds it dead and restarts it
        assert mgr.healthy() and mgr.restarts == 1
        assert time.monotonic() - started < 20
        again, rebuilt = mgr.ensure_workspace(ws.id)
        assert rebuilt and again.id == ws.id
        with psycopg.connect(again.conninfo("dev"), autocommit=True) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        started = time.monotonic()
        mgr.stop()
        assert time.monotonic() - started < 5


def test_the_quota_takes_the_sizes_a_caller_vouches_for_and_only_of_this_workspace(pg_cluster) -> None:
    mgr = manager_over(pg_cluster, workspace_quota_mb=8)
    try:
        ws = mgr.create_workspace()
        measured = mgr.workspace_bytes(ws.id)
        said = {ws.dbname("prod"): 100 * 1024 * 1024}  # as a saved reading would say, here made up
        assert mgr.workspace_bytes(ws.id, known=said) > 90 * 1024 * 1024  # taken, not measured
        with pytest.raises(QuotaExceeded):
            mgr.check_quota(ws.id, known=said)
        other = {ws.dbname("prod").replace(ws.id, "x" * len(ws.id)): 100 * 1024 * 1024}
        assert mgr.workspace_bytes(ws.id, known=other) == measured  # not one of its databases
        mgr.drop_workspace(ws.id)
    finally:
        mgr.stop()
