"""Where a served app's CPU goes, from Linux's /proc: the app's processes, PostgreSQL's, the load client's,
and the machine's busy time. CPU time per action does not depend on how loaded the machine was, so it says
how many actions per second a machine can serve at most (its cores divided by it), and which part to
make cheaper. PostgreSQL runs a process per connection: the postmaster's own time, the time of the
backends it has reaped (cutime/cstime), and the live backends' time together are the cluster's."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class CpuSample:
    machine_busy_s: float
    app_s: float
    postgres_s: float
    client_s: float

    def __sub__(self, other: CpuSample) -> CpuSample:
        return CpuSample(
            self.machine_busy_s - other.machine_busy_s,
            self.app_s - other.app_s,
            self.postgres_s - other.postgres_s,
            self.client_s - other.client_s,
        )


def sample(app_pid: int, postmaster_pid: int | None) -> CpuSample:
    stats = _all_stats()
    return CpuSample(
        machine_busy_s=_machine_busy(),
        app_s=_tree(app_pid, stats, skip=postmaster_pid),
        postgres_s=_tree(postmaster_pid, stats) if postmaster_pid else 0.0,
        client_s=time.process_time(),
    )


def postmaster_of(data_dir: Path) -> int | None:
    """The postmaster of the embedded cluster a server with this data folder runs."""
    found = postmaster_file(data_dir)
    return int(found[0]) if found else None


def postmaster_file(data_dir: Path) -> list[str] | None:
    """The lines of the postmaster.pid of the embedded cluster a server with this data folder runs (on
    tmpfs when there is room: its folder name ends with a digest of the data folder): pid, data folder,
    start time, port, socket folder..."""
    import hashlib

    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:10]
    candidates = list(data_dir.glob("**/postmaster.pid"))
    candidates += list(Path("/dev/shm").glob(f"migration-lab-*-{digest}/**/postmaster.pid"))
    for pidfile in candidates:
        try:
            lines = pidfile.read_text().split("\n")
            int(lines[0])
            return lines
        except (OSError, ValueError, IndexError):
            continue
    return None


def _machine_busy() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / HZ  # all but idle and iowait


def _all_stats() -> dict[int, tuple[int, int, int]]:
    """pid -> (parent pid, own CPU ticks, reaped children's CPU ticks)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        own, reaped = int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
        stats[int(entry.name)] = (int(fields[1]), own, reaped)
    return stats


def _tree(pid: int, stats: dict[int, tuple[int, int, int]], skip: int | None = None) -> float:
    """CPU seconds of a process, of its children it has reaped, and of its live descendants (but `skip`'s
    subtree: a cluster started by the app is counted as PostgreSQL's)."""
    if pid not in stats:
        return 0.0
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        _, own, reaped = stats[current]
        total += own + reaped
        todo += [child for child, (parent, _, _) in stats.items() if parent == current and child != skip]
    return total / HZ
