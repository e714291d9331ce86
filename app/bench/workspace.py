"""Suite `workspace`: a workspace ready warm and cold, environment operations, and what an idle workspace
costs. Runs its own embedded cluster (tmpfs when there is room), as `make run` would.

Memory and disk: on tmpfs a database's files are memory, so the disk figure is also the memory figure.
An idle workspace holds no backend process (the app connects per action), so its process memory is the
delta of the cluster's PSS per workspace; a workspace in use adds one backend per open session, measured
as private memory after a query in each of its four databases.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from app.bench.core import Measurement
from sandbox import ENVS, EmbeddedProvider, SandboxManager, SandboxSettings

MIB = 2**20
IDLE_SAMPLE = 20  # workspaces created to measure the per-workspace deltas


def run(n: int) -> list[Measurement]:
    data_dir = Path(tempfile.mkdtemp(prefix="migration-lab-bench-"))
    provider = EmbeddedProvider.create(data_dir)
    settings = SandboxSettings(sandbox_prefix="bench", pool_size=1)
    manager = SandboxManager(provider, settings, secret="bench")
    manager.start(background=False)
    try:
        return [
            *_ready(manager, n),
            *_env_operations(manager, max(5, n // 2)),
            *_idle_cost(manager, provider),
            _session_memory(manager),
        ]
    finally:
        manager.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def _ready(manager: SandboxManager, n: int) -> list[Measurement]:
    warm, cold = [], []
    for _ in range(n + 2):  # the first two of each are warm-up
        manager.fill_pool()
        warm.append(_timed(manager.create_workspace))
        cold.append(_timed(lambda: manager.create_workspace(warm=False)))
        _drop_all(manager)
    return [
        Measurement("workspace_ready_warm_ms", [ms for ms, _ in warm[2:]], target="<= 10 ms median"),
        Measurement("workspace_ready_cold_ms", [ms for ms, _ in cold[2:]], target="<= 100 ms median (tmpfs)"),
    ]


def _env_operations(manager: SandboxManager, n: int) -> list[Measurement]:
    ws = manager.create_workspace()
    with psycopg.connect(ws.conninfo("prod")) as conn:
        conn.execute("CREATE TABLE users (id serial PRIMARY KEY, email text)")
        conn.execute("INSERT INTO users (email) SELECT 'u' || g FROM generate_series(1, 1000) g")
    reset, clone, restore = [], [], []
    for _ in range(n):
        reset.append(_timed(lambda: ws.reset_env("dev"))[0])
        clone.append(_timed(lambda: ws.clone_env("prod", "before_deploy"))[0])
        restore.append(_timed(lambda: ws.restore_env("prod", "before_deploy"))[0])
    _drop_all(manager)
    return [
        Measurement("workspace_reset_env_ms", reset),
        Measurement("workspace_clone_env_ms", clone, target="prod with 1000 rows"),
        Measurement("workspace_restore_env_ms", restore),
    ]


def _idle_cost(manager: SandboxManager, provider: EmbeddedProvider) -> list[Measurement]:
    _drop_all(manager)
    root = provider.cluster.root
    before_disk, before_pss = _du(root), _cluster_pss(provider)
    workspaces = [manager.create_workspace() for _ in range(IDLE_SAMPLE)]
    time.sleep(0.5)  # let the checkpointer and background writer settle
    disk = (_du(root) - before_disk) / IDLE_SAMPLE / MIB
    pss = max(0.0, (_cluster_pss(provider) - before_pss) / IDLE_SAMPLE / MIB)
    db_size = workspaces[0].size_bytes() / MIB
    _drop_all(manager)
    return [
        Measurement("idle_workspace_db_size_mib", value=db_size, unit="MiB", target="4 databases"),
        Measurement("idle_workspace_tmpfs_mib", value=disk, unit="MiB", target="<= 35 MiB (disk = memory)"),
        Measurement("idle_workspace_process_mib", value=pss, unit="MiB", target="PSS delta, no sessions"),
    ]


def _session_memory(manager: SandboxManager) -> Measurement:
    """Private memory of the four backends of a workspace in use (one session per environment)."""
    ws = manager.create_workspace()
    conns = [psycopg.connect(ws.conninfo(env)) for env in ENVS]
    try:
        total = 0
        for conn in conns:
            conn.execute("CREATE TABLE t (id int PRIMARY KEY); SELECT * FROM t")
            total += _private_bytes(conn.info.backend_pid)
    finally:
        for conn in conns:
            conn.close()
        _drop_all(manager)
    return Measurement("active_workspace_sessions_mib", value=total / MIB, unit="MiB", target="4 sessions")


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def _drop_all(manager: SandboxManager) -> None:
    for info in manager.list_workspaces():
        manager.drop_workspace(info.id)


def _du(path: Path) -> int:
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file())


def _cluster_pss(provider: EmbeddedProvider) -> int:
    pidfile = provider.cluster.pgdata / "postmaster.pid"
    postmaster = int(pidfile.read_text().splitlines()[0])
    pids = [postmaster] + [int(p) for p in _children(postmaster)]
    return sum(_smaps_field(pid, "Pss") for pid in pids)


def _children(pid: int) -> list[str]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return path.read_text().split() if path.exists() else []


def _private_bytes(pid: int) -> int:
    return _smaps_field(pid, "Private_Clean") + _smaps_field(pid, "Private_Dirty")


def _smaps_field(pid: int, field: str) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0

