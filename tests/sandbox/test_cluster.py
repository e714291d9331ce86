"""The embedded cluster: binaries lookup, unprivileged user, crash recovery, a clear failed-start message."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from sandbox import ClusterError
from sandbox import cluster as cluster_module
from sandbox.cluster import EmbeddedCluster, find_pg_bin


def test_missing_binaries_say_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cluster_module.shutil, "which", lambda name: None)
    monkeypatch.setattr(cluster_module, "DEBIAN_BIN_GLOB", str(tmp_path / "none" / "*" / "bin"))
    monkeypatch.setitem(sys.modules, "pgserver", None)  # as if the wheel were not installed
    with pytest.raises(ClusterError) as caught:
        find_pg_bin(str(tmp_path / "empty"))
    message = str(caught.value)
    assert "No PostgreSQL server binaries found" in message
    assert "MIGRATION_LAB_PG_BIN" in message and "pip install pgserver" in message


def test_the_pgserver_wheel_is_the_fallback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine without PostgreSQL still gets a cluster from the wheel `pip install` brought."""
    monkeypatch.setattr(cluster_module.shutil, "which", lambda name: None)
    monkeypatch.setattr(cluster_module, "DEBIAN_BIN_GLOB", str(tmp_path / "none" / "*" / "bin"))
    found = find_pg_bin()
    assert found.parts[-3:] == ("pgserver", "pginstall", "bin")
    assert (found / "initdb").exists() and (found / "pg_ctl").exists()


def test_explicit_pg_bin_wins(pg_cluster: EmbeddedCluster) -> None:
    assert find_pg_bin(str(pg_cluster.pg_bin)) == pg_cluster.pg_bin


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root process hands the cluster to a system user")
def test_cluster_runs_as_an_unprivileged_user(pg_cluster: EmbeddedCluster) -> None:
    pid = int((pg_cluster.pgdata / "postmaster.pid").read_text().splitlines()[0])
    uid = int(Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0])
    assert uid != 0
    assert pg_cluster.pgdata.stat().st_uid == uid


CRASHING_RUN = """
import sys, time
from pathlib import Path
from sandbox.cluster import EmbeddedCluster
cluster = EmbeddedCluster.create(Path(sys.argv[1]), name="crashy")
cluster.start()
print(cluster.pgdata / "postmaster.pid", flush=True)
time.sleep(600)
"""


def test_a_cluster_left_by_a_crashed_run_is_cleaned_on_the_next_start(
    tmp_path: Path, repo_root: Path
) -> None:
    run = subprocess.Popen(
        [sys.executable, "-c", CRASHING_RUN, str(tmp_path)], cwd=repo_root, stdout=subprocess.PIPE, text=True
    )
    try:
        assert run.stdout is not None
        pidfile = Path(run.stdout.readline().strip())
        old_postmaster = int(pidfile.read_text().splitlines()[0])
        with pytest.raises(ClusterError, match=f"Another process \\(pid {run.pid}\\) runs the embedded"):
            EmbeddedCluster.create(tmp_path, name="crashy").start()  # its owner is alive: hands off
    finally:
        run.kill()  # the crash: SIGKILL, no stop(); the postmaster and the folder stay behind
        run.wait()
    assert Path(f"/proc/{old_postmaster}").exists()
    fresh = EmbeddedCluster.create(tmp_path, name="crashy")
    try:
        fresh.start()
        assert not Path(f"/proc/{old_postmaster}").exists()
        with psycopg.connect(fresh.admin_conninfo()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        fresh.stop()
    assert not fresh.root.exists()


def test_a_failed_start_gives_one_clear_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        cluster = EmbeddedCluster.create(tmp_path, name="busy")
        cluster.port = taken.getsockname()[1]
        try:
            with pytest.raises(ClusterError) as caught:
                cluster.start()
        finally:
            cluster.stop()
    message = str(caught.value)
    assert message.startswith("PostgreSQL failed to start the server")
    assert "could not bind" in message or "Address already in use" in message
    assert "MIGRATION_LAB_SANDBOX=server" in message
