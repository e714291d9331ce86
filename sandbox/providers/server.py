"""The server provider: existing PostgreSQL servers given by admin URLs (docker-compose, several machines).

`MIGRATION_LAB_SANDBOX_URL` names one server, or several separated by commas. The first is the *home*
server: it keeps the registry of workspaces, the grading databases and the exercise templates, and must be
up. New workspaces go to the least loaded server that answers (fewest workspaces); a workspace stays on the
server it was built on, and a server that does not answer is skipped for new workspaces until it does.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg
from psycopg.conninfo import conninfo_to_dict

from sandbox.providers.base import SandboxError, Server

log = logging.getLogger(__name__)

# A server that failed to answer is not asked again for this long (creating a workspace must not wait on
# a dead server's connect timeout every time).
DOWN_RECHECK_S = 15.0
CONNECT_TIMEOUT_S = 3


def split_urls(value: str) -> list[str]:
    """Several URLs separated by commas (a comma never appears unescaped in a PostgreSQL URL)."""
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_server(url: str) -> Server:
    try:
        params = {k: v for k, v in conninfo_to_dict(url).items() if v is not None}
    except Exception as exc:  # psycopg raises ProgrammingError with the parser's message
        raise SandboxError(f"MIGRATION_LAB_SANDBOX_URL is not a valid PostgreSQL URL: {exc}") from exc
    admin_db = str(params.pop("dbname", "postgres"))
    host = str(params.get("host", "localhost"))
    port = int(str(params.get("port", 5432)))
    # A Unix socket (`?host=/path/to/socket`, as `serve --workers` hands its cluster to the workers) is the
    # app's fast way in; learners are shown the same server's TCP address on this machine.
    public = "127.0.0.1" if host.startswith("/") else host
    return Server(
        admin=params, admin_db=admin_db, app_host=host, app_port=port, public_host=public, public_port=port
    )


def server_key(server: Server) -> str:
    """How the registry names a server: stable across restarts, as long as its URL is."""
    return f"{server.app_host}:{server.app_port}"


class ServerProvider:
    name = "server"
    shared = True

    def __init__(self, url: str | None) -> None:
        urls = split_urls(url or "")
        if not urls:
            raise SandboxError(
                "MIGRATION_LAB_SANDBOX=server needs MIGRATION_LAB_SANDBOX_URL, the URL of a role that can "
                "create roles and databases, e.g. postgresql://admin:secret@db:5432/postgres "
                "(several servers: separate their URLs with commas)."
            )
        self.servers = [parse_server(u) for u in urls]
        keys = [server_key(s) for s in self.servers]
        if len(set(keys)) != len(keys):
            raise SandboxError(f"MIGRATION_LAB_SANDBOX_URL names a server twice: {', '.join(keys)}.")
        self._down_until: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def home(self) -> Server:
        return self.servers[0]

    def start(self) -> None:
        """Connect to each server now: a wrong URL or a home server that is down fails at startup; another
        server that is down is only logged (it is skipped until it answers)."""
        self._check(self.home, fail=True)
        for server in self.servers[1:]:
            self._check(server, fail=False)

    def stop(self) -> None:
        for server in self.servers:
            server.close()

    def server_for(self, workspace_id: str, create: bool) -> Server:
        """The home server (single-server deployments keep every workspace there)."""
        return self.home

    def server_named(self, key: str) -> Server | None:
        """The server a workspace was built on ("" for workspaces registered before there were several)."""
        if not key:
            return self.home
        return next((s for s in self.servers if server_key(s) == key), None)

    def place(self, loads: dict[str, int]) -> Server:
        """The server for a new workspace: the one with the fewest workspaces among those that answer."""
        order = sorted(self.servers, key=lambda s: (loads.get(server_key(s), 0), self.servers.index(s)))
        for server in order:
            if self.answers(server):
                return server
        raise SandboxError("No sandbox server answers: new workspaces cannot be created right now.")

    def answers(self, server: Server, probe: bool = True) -> bool:
        """False while the server is marked down; with `probe`, also connect once to make sure (building
        a workspace can afford it, a panel request cannot)."""
        key = server_key(server)
        with self._lock:
            if self._down_until.get(key, 0.0) > time.monotonic():
                return False
        return self._check(server, fail=False) if probe else True

    def mark_down(self, server: Server) -> None:
        with self._lock:
            self._down_until[server_key(server)] = time.monotonic() + DOWN_RECHECK_S

    def mark_up(self, server: Server) -> None:
        """Ask the server again on next use, without waiting for the recheck interval."""
        with self._lock:
            self._down_until.pop(server_key(server), None)

    def reachable(self) -> list[Server]:
        return [s for s in self.servers if self.answers(s)]

    def release(self, workspace_id: str) -> None:
        """Workspaces share the servers: nothing to give back."""

    def stray_workspaces(self, known: set[str]) -> list[str]:
        return []

    def _check(self, server: Server, fail: bool) -> bool:
        key = server_key(server)
        try:
            psycopg.connect(server.admin_conninfo(), connect_timeout=CONNECT_TIMEOUT_S).close()
        except psycopg.OperationalError as exc:
            reason = str(exc).strip()
            message = f"Cannot reach the sandbox server {key} given by MIGRATION_LAB_SANDBOX_URL: {reason}"
            if fail:
                raise SandboxError(message) from exc
            with self._lock:
                first = key not in self._down_until
                self._down_until[key] = time.monotonic() + DOWN_RECHECK_S
            if first:
                log.warning("%s; new workspaces go to the other servers until it answers", message)
            return False
        with self._lock:
            if self._down_until.pop(key, None) is not None:
                log.info("sandbox server %s answers again", key)
        return True
