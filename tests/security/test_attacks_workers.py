"""Issue 11's per-client rate limit and per-learner fair share hold across the workers of
`migration-lab serve --workers 2` (embedded cluster started by the parent; state in SQLite, then in
PostgreSQL).

Each request goes over a kept-alive connection whose worker is known: the test looks up which worker
process holds the server end of the connection (`/proc/net/tcp` and the processes' file descriptors), and
uses as many connections pinned to one worker as to the other. Counted per process, every worker would
allow the whole limit (twice the requests); shared, the limit holds over both.
"""

from __future__ import annotations

import http.client
import os
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import httpx
import psycopg
import pytest

from tests.served import start_served, stop_served, wait_ready

NEW_LEARNERS = 6
ACTIONS_PER_LEARNER = 2


class Served:
    def __init__(self, port: int, pid: int) -> None:
        self.port = port
        self.pid = pid

    def workers(self) -> list[int]:
        """The server's child processes (uvicorn's workers among them)."""
        children = []
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            children += [int(pid) for pid in (task / "children").read_text().split()]
        return children


def state_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """`""` (the SQLite file in the data folder) or a fresh database of the test cluster."""
    if request.param == "sqlite":
        yield ""
        return
    cluster = request.getfixturevalue("pg_cluster")
    name = f"wattack_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://{cluster.superuser}@/{name}?host={cluster.socket_dir}&port={cluster.port}"
    with psycopg.connect(cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, repo_root: Path
) -> Iterator[Served]:
    """With SQLite state the workers share slots through a lock file; with PostgreSQL state (as replicas
    do) through advisory locks. Both count rate limits in the state database."""
    database = state_database(request)
    database_url = next(database)
    data_dir = tmp_path_factory.mktemp("workers-attacks")
    environment = {
        "MIGRATION_LAB_POOL_SIZE": "0",
        "MIGRATION_LAB_MAX_WORKSPACES": "20",
        "MIGRATION_LAB_SANDBOX_PREFIX": "wattack",
        "MIGRATION_LAB_NEW_LEARNERS_PER_CLIENT": f"{NEW_LEARNERS}/minute",
        "MIGRATION_LAB_ACTIONS_PER_LEARNER": str(ACTIONS_PER_LEARNER),
        "MIGRATION_LAB_ACTION_WAIT_SECONDS": "1",
        "MIGRATION_LAB_RATE_LIMIT_STORAGE": "auto",  # the default, whatever the environment says
        "MIGRATION_LAB_DATABASE_URL": database_url,
    }
    log = data_dir / "server.log"
    process, url = start_served(data_dir, repo_root, environment, workers=2, log_path=log)
    try:
        wait_ready(process, url, log, seconds=120)
        yield Served(httpx.URL(url).port or 0, process.pid)
    finally:
        stop_served(process)
        next(database, None)  # drops the PostgreSQL state database


def worker_of(connection: http.client.HTTPConnection, served: Served) -> int:
    """The pid of the worker holding the server end of `connection`."""
    assert connection.sock is not None
    client_port = connection.sock.getsockname()[1]
    inode = ""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == served.port and int(remote.split(":")[1], 16) == client_port:
            inode = fields[9]
    assert inode, "the server end of the connection is not in /proc/net/tcp"
    target = f"socket:[{inode}]"
    for pid in served.workers():
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == target for fd in os.listdir(f"/proc/{pid}/fd")):
                return pid
        except OSError:  # a process that ended meanwhile
            continue
    raise AssertionError("no worker holds the server end of the connection")


def connections_to_each_worker(
    served: Served, address: str, each: int
) -> Iterator[tuple[int, http.client.HTTPConnection]]:
    """Kept-alive connections, `each` served by each of the two workers: (worker, connection), each used
    at once (before the server closes it as idle)."""
    count: dict[int, int] = {}
    for _ in range(100):
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)
        connection.request("GET", "/healthz", headers={"X-Forwarded-For": address})  # counts for nothing
        connection.getresponse().read()
        pid = worker_of(connection, served)
        if count.get(pid, 0) < each:
            count[pid] = count.get(pid, 0) + 1
            yield pid, connection
        connection.close()
        if len(count) == 2 and all(n == each for n in count.values()):
            return
    raise AssertionError(f"connections never reached both workers: {count}")


def test_new_identities_are_limited_over_both_workers(served: Served) -> None:
    answers: dict[int, list[int]] = {}
    retry_after = []
    # Twice the limit, half on each worker: counted per process, every one would be a 200.
    for pid, connection in connections_to_each_worker(served, "10.1.0.1", each=NEW_LEARNERS):
        connection.request("GET", "/", headers={"X-Forwarded-For": "10.1.0.1"})  # no cookie: a new learner
        response = connection.getresponse()
        response.read()
        answers.setdefault(pid, []).append(response.status)
        if response.status == 429:
            retry_after.append(int(response.getheader("Retry-After") or 0))
    statuses = sorted(sum(answers.values(), []))
    assert statuses == [200] * NEW_LEARNERS + [429] * NEW_LEARNERS, answers
    assert len(answers) == 2 and min(retry_after) >= 1


def test_one_learner_runs_only_its_share_of_actions_over_both_workers(served: Served) -> None:
    base = f"http://127.0.0.1:{served.port}"
    with httpx.Client(base_url=base, headers={"X-Forwarded-For": "10.1.1.1"}, timeout=60) as browser:
        page = browser.get("/playground")
        assert page.status_code == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    headers = {
        "Cookie": cookie, "X-CSRF-Token": token.group(1), "HX-Request": "true", "X-Forwarded-For": "10.1.1.1",
        "Content-Type": "application/x-www-form-urlencoded",
    }  # fmt: skip
    body = urlencode({"sql": "SELECT pg_sleep(3)", "env": "dev"})
    # The learner's limit on each worker: counted per process, all four would run.
    connections = list(connections_to_each_worker(served, "10.1.1.1", each=ACTIONS_PER_LEARNER))

    def act(pinned_connection: tuple[int, http.client.HTTPConnection]) -> tuple[int, int, str]:
        pid, connection = pinned_connection
        connection.request("POST", "/panel/playground/sql", body=body, headers=headers)
        response = connection.getresponse()
        said = response.read().decode()
        connection.close()
        return pid, response.status, said

    with ThreadPoolExecutor(max_workers=len(connections)) as pool:
        answers = list(pool.map(act, connections))
    statuses = sorted(status for _, status, _ in answers)
    assert statuses == [200] * ACTIONS_PER_LEARNER + [429] * ACTIONS_PER_LEARNER, answers
    assert all("sandbox actions running" in said for _, status, said in answers if status == 429)
    assert len({pid for pid, _, _ in answers}) == 2
