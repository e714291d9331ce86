"""Suite `workers`: `migration-lab serve --workers N` as a class uses it, several processes on one machine.

Two measurements, each against the real command started as a subprocess (its own data folder, embedded
cluster started by the parent, local assets), driven by the `load` suite's learners from this process:
- a class: MIGRATION_LAB_BENCH_WORKERS_LEARNERS (default 200) learners with 2 s pauses against
  `--workers 2` (issue 13's target: p95 action <= 1 s, no error);
- throughput: the same learners without pauses (every learner clicks again as soon as the answer comes)
  for SATURATE_S seconds, once with 1 worker and once with 2, in the same run; the ratio is reported
  (goal >= 1.6x). The client shares the machine's cores with the server in both runs alike.
- where the CPU goes during each saturated run and during the class, per action: the app's processes,
  PostgreSQL's, the load client's, and the whole machine's busy time (app.bench.cpu). A second worker can
  only add throughput while the machine has idle CPU left: `workers{N}_capacity` (cores / machine CPU per
  action) is the most actions per second this machine can serve, whatever the number of workers.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.bench import cpu
from app.bench.core import Measurement
from app.bench.harness import LESSONS
from app.bench.load import POOL_MARGIN, REQUEST_TIMEOUT_S, _drive, _measurements

CLASS_LEARNERS = 200
THINK_MS = 2000.0
RAMP_S = 10.0
SATURATE_LEARNERS = 40
SATURATE_S = 30.0
START_TIMEOUT_S = 120.0
POOL_TIMEOUT_S = 600.0


def run(
    n: int,
    learners: int | None = None,
    think_ms: float = THINK_MS,
    ramp_s: float = RAMP_S,
    saturate_s: float = SATURATE_S,
    saturate_learners: int = SATURATE_LEARNERS,
) -> list[Measurement]:
    learners = learners or int(os.environ.get("MIGRATION_LAB_BENCH_WORKERS_LEARNERS", CLASS_LEARNERS))
    measurements: list[Measurement] = []
    print(f"workers: {learners} learners x {n} actions against --workers 2", file=sys.stderr)
    with served(workers=2, learners=learners) as (base_url, processes):
        before = cpu.sample(*processes())
        started = time.perf_counter()
        deadline = ramp_s + n * think_ms * 1.5 / 1000 + 30
        results = asyncio.run(_drive(base_url, learners, n, think_ms / 1000, ramp_s, deadline))
        elapsed = time.perf_counter() - started
        used = cpu.sample(*processes()) - before
    for line in results.errors[:10]:
        print(f"workers error: {line}", file=sys.stderr)
    prefix = f"workers2_{learners}"
    for m in _measurements(results, elapsed):
        m.name = m.name.replace("load_", f"{prefix}_", 1)
        if m.name.endswith("_action_ms"):
            m.target = f"p95 <= 1 s at {learners} learners with 2 workers (issue 13)"
        measurements.append(m)
    # The class's own CPU per request (first visits included): how far its demand is from the cores.
    requests = sum(len(samples) for samples in results.actions.values()) + len(results.first_open)
    measurements += _cpu_measurements(prefix, used, requests, elapsed)
    throughput = {}
    for workers in (1, 2):
        print(f"workers: saturating --workers {workers} for {saturate_s:.0f} s", file=sys.stderr)
        with served(workers=workers, learners=saturate_learners) as (base_url, processes):
            before = cpu.sample(*processes())
            started = time.perf_counter()
            results = asyncio.run(_drive(base_url, saturate_learners, 10_000, 0.0, 1.0, saturate_s))
            elapsed = time.perf_counter() - started
            used = cpu.sample(*processes()) - before
        done = sum(len(samples) for samples in results.actions.values())
        throughput[workers] = done / elapsed
        measurements.append(
            Measurement(f"workers{workers}_throughput", value=round(throughput[workers], 2), unit="actions/s")
        )
        measurements += _cpu_measurements(f"workers{workers}", used, done + len(results.first_open), elapsed)
        errors = len(results.errors)
        measurements.append(
            Measurement(f"workers{workers}_saturated_errors", value=errors, unit="errors", target="0")
        )
    ratio = throughput[2] / throughput[1] if throughput[1] else 0.0
    measurements.append(
        Measurement("workers_throughput_ratio", value=round(ratio, 2), unit="x", target=">= 1.6 (issue 13)")
    )
    return measurements


def _cpu_measurements(
    prefix: str, used: cpu.CpuSample, actions: int, elapsed: float | None = None
) -> list[Measurement]:
    if not actions:
        return []
    per = {
        "machine": used.machine_busy_s,
        "app": used.app_s,
        "postgres": used.postgres_s,
        "client": used.client_s,
    }
    found = [
        Measurement(f"{prefix}_cpu_{part}_per_action", value=round(seconds * 1000 / actions, 1),
                    target="CPU time; machine = every process, the others included")
        for part, seconds in per.items()
    ]  # fmt: skip
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if used.machine_busy_s > 0:
        capacity = cores * actions / used.machine_busy_s
        found.append(Measurement(f"{prefix}_capacity", value=round(capacity, 1), unit="actions/s",
                                 target=f"{cores} cores / machine CPU per action"))  # fmt: skip
    if elapsed:
        # Whether the app's processes or the machine ran out first: one worker cannot use more than one
        # core of Python, and a second worker only helps while the machine has idle cores left.
        found.append(Measurement(f"{prefix}_app_cores", value=round(used.app_s / elapsed, 2), unit="cores",
                                 target="CPU time of the app's processes / elapsed"))  # fmt: skip
        found.append(Measurement(f"{prefix}_machine_busy", value=round(used.machine_busy_s / elapsed, 2),
                                 unit="cores", target=f"of {cores}"))  # fmt: skip
    return found


@contextmanager
def served(workers: int, learners: int) -> Iterator[tuple[str, Callable[[], tuple[int, int | None]]]]:
    """`migration-lab serve --workers N` on a free port of 127.0.0.1, its warm pool filled for `learners`
    as an instructor fills it before a class (README, "Hosting a class"); stopped and removed afterwards.
    Yields its base URL and a function giving the server's pid and its cluster's postmaster pid."""
    root = Path(tempfile.mkdtemp(prefix="migration-lab-bench-workers-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "MIGRATION_LAB_DATA_DIR": str(root / "data"),
        "MIGRATION_LAB_ASSETS": "local",
        "MIGRATION_LAB_SANDBOX_PREFIX": "bwork",
        # A class: a workspace ready for each learner's playground; a few more for the pool's refill.
        "MIGRATION_LAB_POOL_SIZE": str(learners),
        "MIGRATION_LAB_MAX_WORKSPACES": str(learners + POOL_MARGIN),
    }
    env.pop("MIGRATION_LAB_DATABASE_URL", None)
    command = [sys.executable, "-m", "app.cli", "serve", "--workers", str(workers), "--port", str(port)]
    command += ["--lessons", str(LESSONS)]
    log = open(root / "serve.log", "wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base_url, server, root)
        _wait_pool(root / "data", learners, server)
        yield base_url, lambda: (server.pid, cpu.postmaster_of(root / "data"))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=REQUEST_TIMEOUT_S + 30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(base_url: str, server: subprocess.Popen[bytes], root: Path) -> None:
    import httpx

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"serve exited: {(root / 'serve.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                time.sleep(3)  # every worker up and the warm pool filled by the leader, as before a class
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("serve did not answer within the start timeout")


def _wait_pool(data_dir: Path, size: int, server: subprocess.Popen[bytes]) -> None:
    """Until the leader has built `size` ready workspaces (counted in the sandbox's registry)."""
    import psycopg

    deadline = time.monotonic() + POOL_TIMEOUT_S
    while time.monotonic() < deadline and server.poll() is None:
        pid_lines = cpu.postmaster_file(data_dir)
        if pid_lines is not None:
            try:
                conninfo = f"host={pid_lines[4]} port={pid_lines[3]} user=postgres dbname=postgres"
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    row = conn.execute(
                        "SELECT count(*) FROM migration_lab_sandbox.workspaces WHERE state = 'pool'"
                    ).fetchone()
                if row is not None and row[0] >= size:
                    return
            except psycopg.Error:
                pass  # the registry is not there yet
        time.sleep(0.5)
    raise RuntimeError(f"the warm pool did not reach {size} workspaces within {POOL_TIMEOUT_S:.0f} s")
