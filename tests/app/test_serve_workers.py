"""`migration-lab serve --workers 2` for real: one embedded cluster started by the parent, workers that
serve any learner (fresh connections land on either), a worker killed is replaced, the cluster killed is
restarted by the parent, and nothing is left when the server stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "panel"))
from panel_helpers import SCHEMA_WITH_BIO, Panel  # noqa: E402  # the panel tests' browser, over real HTTP

from sandbox.cluster import free_port
from tests.served import stop_served

REPO = Path(__file__).resolve().parents[2]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def python_workers(pid: int) -> list[int]:
    workers = []
    for child in children_of(pid):
        try:
            if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text():  # not the resource tracker
                workers.append(child)
        except OSError:
            continue
    return workers


def wait_until(check, what: str, seconds: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    port = free_port()
    env = {**os.environ, "MIGRATION_LAB_POOL_SIZE": "2", "MIGRATION_LAB_DATA_DIR": str(tmp_path / "data")}
    env.pop("MIGRATION_LAB_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--workers", "2", "--port", str(port),
         "--lessons", str(REPO / "lessons")],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "serve.log", "wb"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(base) or server.poll() is not None, "the server to answer")
        assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
        yield base, server, tmp_path
    finally:
        assert stop_served(server, timeout=60), "serve did not stop within 60 s of Ctrl-C"


def test_two_workers_share_one_cluster_and_every_learner(
    served: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    base, server, tmp_path = served
    workers = python_workers(server.pid)
    assert len(workers) == 2, workers
    with httpx.Client(base_url=base, timeout=60) as client:
        panel = Panel(client)  # type: ignore[arg-type]  # httpx.Client speaks the TestClient's API
        panel.create(SCHEMA_WITH_BIO, "add_bio")
        cookies = dict(client.cookies)
    for _ in range(12):  # a new connection each time: the kernel hands them to either worker
        page = httpx.get(f"{base}/playground", cookies=cookies, timeout=60)
        assert page.status_code == 200 and "_add_bio" in page.text

    # A worker that dies is replaced; the learner goes on.
    os.kill(workers[0], signal.SIGKILL)
    wait_until(lambda: len(python_workers(server.pid)) == 2 and workers[0] not in python_workers(server.pid),
               "a replacement worker")  # fmt: skip
    for _ in range(6):
        assert httpx.get(f"{base}/playground", cookies=cookies, timeout=60).status_code == 200


def test_the_parent_restarts_a_cluster_that_died(served: tuple[str, subprocess.Popen[bytes], Path]) -> None:
    base, _, tmp_path = served
    with httpx.Client(base_url=base, timeout=60) as client:
        panel = Panel(client)  # type: ignore[arg-type]
        panel.create(SCHEMA_WITH_BIO, "add_bio")
        cookies = dict(client.cookies)
    pidfiles = list(Path("/dev/shm").glob("migration-lab-*/sandbox/data/postmaster.pid"))
    pidfiles += list((tmp_path / "data").glob("**/postmaster.pid"))
    ours = [p for p in pidfiles if _cluster_of(p, tmp_path / "data")]
    assert len(ours) == 1, pidfiles
    postmaster = int(ours[0].read_text().split("\n", 1)[0])
    os.kill(postmaster, signal.SIGKILL)

    def served_again() -> bool:
        try:
            page = httpx.get(f"{base}/playground", cookies=cookies, timeout=60)
        except httpx.HTTPError:
            return False
        return page.status_code == 200 and "_add_bio" in page.text

    wait_until(served_again, "the learner's playground after the cluster was killed")


def _cluster_of(pidfile: Path, data_dir: Path) -> bool:
    """Whether a cluster folder belongs to this data dir (on tmpfs it is named by a hash of the data dir)."""
    import hashlib

    if data_dir in pidfile.parents:
        return True
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:10]
    return pidfile.parents[2].name.endswith(digest)


def test_an_idle_connection_is_kept_past_uvicorns_five_seconds(
    served: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    """A browser pausing between clicks, or nginx's upstream pool, reuses its connection: if the server
    closed it at that moment the request would get no answer at all."""
    import http.client

    from app.serve_cli import KEEP_ALIVE_S

    base, _, _ = served
    assert KEEP_ALIVE_S > 60  # longer than nginx keeps upstream connections (deploy/proxy/nginx.conf)
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", "/healthz")
        assert conn.getresponse().read() and conn.sock is not None
        first = conn.sock.getsockname()
        time.sleep(6.5)
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        assert response.status == 200 and response.read()
        assert conn.sock.getsockname() == first  # the same connection, not a new one
    finally:
        conn.close()


def test_default_workers_leave_half_the_cores_to_sandboxes_on_the_same_machine() -> None:
    import os

    from app.serve_workers import default_workers

    cores = len(os.sched_getaffinity(0))
    assert default_workers(sandboxes_here=False) == cores
    assert default_workers(sandboxes_here=True) == max(1, cores // 2)
