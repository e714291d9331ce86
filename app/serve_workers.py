"""`migration-lab serve --workers N`: what the parent process prepares once, before N workers start.

Every worker can serve every learner (identity in the signed cookie, state in the database, workspace locks
in the state database or beside its SQLite file), so the workers only need to agree on what would otherwise
be created by each of them: the secret keys, the state database's schema, and the sandbox. With the embedded
provider the parent starts the one cluster, hands it to the workers as a `server` (its Unix socket), and
restarts it if it dies; the workers elect one of them to run the warm pool and the reaper.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

SUPERVISE_INTERVAL_S = 1.0


def default_workers(sandboxes_here: bool) -> int:
    """One per core this process may run on (a container's CPU set, not the host's count); half as many
    when the sandboxes' PostgreSQL runs on the same cores (embedded or docker). PostgreSQL takes over half
    the CPU of an action there: on 2 cores one worker already kept both busy, and a second one served
    fewer actions per second (`migration-lab bench --only workers`: 38.2 with 1, 33.4 with 2)."""
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        cores = max(1, os.cpu_count() or 1)
    return max(1, cores // 2) if sandboxes_here else cores


def socket_url(superuser: str, socket_dir: Path, port: int) -> str:
    """A server URL reaching the cluster through its Unix socket (trusted local auth, no password)."""
    host = quote(str(socket_dir), safe="")
    return f"postgresql://{quote(superuser, safe='')}@/postgres?host={host}&port={port}"


@contextmanager
def shared_by_workers(data_dir: Path, database_url: str) -> Iterator[None]:
    """Prepare what the workers share; yields while they run, then stops what it started."""
    from app.db.engine import default_database_url, open_state
    from app.guard.settings import GuardSettings
    from app.settings import Settings, prepare
    from sandbox import SandboxSettings, load_or_create_secret

    prepare(Settings())  # the cookie key, generated once here rather than raced by N workers
    sandbox = SandboxSettings()
    if not sandbox.sandbox_secret:
        load_or_create_secret(data_dir)
    open_state(database_url or default_database_url(data_dir)).dispose()  # Alembic, once
    if GuardSettings().rate_limit_storage == "auto":
        # Several processes: rate limits and fair share counted in the state database, not N times.
        os.environ["MIGRATION_LAB_RATE_LIMIT_STORAGE"] = "state"
    if sandbox.sandbox != "embedded":
        yield
        return
    # Sized to the connection budget the workers check at start-up, plus PostgreSQL's 3 superuser slots.
    budget = sandbox.connection_limit * sandbox.max_workspaces + sandbox.reserved_connections
    with _embedded_cluster(data_dir, sandbox.pg_bin, budget + 3):
        yield


@contextmanager
def _embedded_cluster(data_dir: Path, pg_bin: str | None, max_connections: int) -> Iterator[None]:
    from sandbox import EmbeddedProvider

    provider = EmbeddedProvider.create(data_dir, pg_bin=pg_bin, max_connections=max_connections)
    provider.start()
    cluster = provider.cluster
    os.environ["MIGRATION_LAB_SANDBOX"] = "server"
    os.environ["MIGRATION_LAB_SANDBOX_URL"] = socket_url(cluster.superuser, cluster.socket_dir, cluster.port)
    stopping = threading.Event()
    supervisor = threading.Thread(
        target=_supervise, args=(provider, stopping), name="sandbox-supervisor", daemon=True
    )
    supervisor.start()
    try:
        yield
    finally:
        stopping.set()
        supervisor.join(timeout=10)
        provider.stop()


def _supervise(provider: object, stopping: threading.Event) -> None:
    """Restart the cluster when its postmaster dies; the workers rebuild workspaces on demand."""
    from sandbox import EmbeddedProvider, PgRegistry

    assert isinstance(provider, EmbeddedProvider)
    while not stopping.wait(SUPERVISE_INTERVAL_S):
        if postmaster_alive(provider.cluster.pgdata):
            continue
        log.error("the sandbox cluster died; restarting it (workspaces are rebuilt when next used)")
        try:
            provider.cluster.stop(wipe=True)
            provider.start()
            # The workers' managers started with the old cluster and do not start again: the fresh one
            # needs the workspace registry they create at start.
            PgRegistry(provider.server_for("shared", create=False), prefix="").ensure()
        except Exception:  # try again next round: a start can fail while the old one is still exiting
            log.exception("restarting the sandbox cluster failed")


def postmaster_alive(pgdata: Path) -> bool:
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True
