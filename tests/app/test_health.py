"""/healthz answers from the health thread's last probe at once, and that probe tells the truth: a sandbox
server that stops answering (its postmaster frozen with SIGSTOP, so the pid still runs) turns /healthz to
503 within a probe round and its connect timeout, and back to 200 once it answers again."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from sandbox.cluster import EmbeddedCluster
from sandbox.config import SandboxSettings
from sandbox.manager import SandboxManager

ROUND_S = 1.0 + 2.0 + 1.0  # a probe round, the probe's connect timeout, margin on a loaded machine


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[EmbeddedCluster]:
    """A cluster of its own: freezing the session's would stall every other test's connections."""
    cluster = EmbeddedCluster.create(tmp_path / "pg", name="health")
    cluster.start()
    yield cluster
    cluster.stop(wipe=True)


def answers_until(client: TestClient, status: int, seconds: float) -> list[tuple[httpx.Response, float]]:
    """Ask /healthz every 50 ms until it answers `status` (or `seconds` passed): each answer, timed."""
    answers = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        answer = client.get("/healthz")
        answers.append((answer, time.perf_counter() - started))
        if answer.status_code == status:
            break
        time.sleep(0.05)
    return answers


def test_healthz_follows_a_server_that_stops_and_resumes_answering(
    own_cluster: EmbeddedCluster, tmp_path: Path, repo_root: Path
) -> None:
    manager = SandboxManager.over_cluster(own_cluster, SandboxSettings(pool_size=0, sandbox_prefix="thealth"))
    manager.start(background=False)
    settings = Settings(data_dir=tmp_path / "data", lessons_dir=repo_root / "lessons", assets="local")
    postmaster = int((own_cluster.pgdata / "postmaster.pid").read_text().splitlines()[0])
    try:
        with TestClient(create_app(settings, sandboxes=manager)) as client:
            first = client.get("/healthz")
            assert first.status_code == 200 and first.json()["sandbox"] == "up", first.text
            os.kill(postmaster, signal.SIGSTOP)
            try:
                frozen = answers_until(client, 503, ROUND_S)
            finally:
                os.kill(postmaster, signal.SIGCONT)
            resumed = answers_until(client, 200, ROUND_S)
    finally:
        manager.stop()
    assert frozen[-1][0].status_code == 503, [a.text for a, _ in frozen[-3:]]
    assert frozen[-1][0].json()["sandbox"] == "down"
    assert resumed[-1][0].status_code == 200 and resumed[-1][0].json()["sandbox"] == "up"
    # Every answer came from the cached probe, none waited for the 2 s connect timeout of a probe.
    slowest = max(t for _, t in frozen + resumed)
    assert slowest < 0.5, slowest
