"""A PostgreSQL server as the sandbox sees it: how the admin, the app and learners reach it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from sandbox.warm import WarmConnections

log = logging.getLogger(__name__)

ADMIN_WAIT_S = 10


class SandboxError(RuntimeError):
    """The sandbox cannot do what was asked; the message says why and what to do."""


class SandboxFull(SandboxError):
    """No room for another workspace (their number, or free space): the message says which limit."""


class QuotaExceeded(SandboxError):
    """A workspace holds more data than its quota; the message names the limit and the way out."""

    def __init__(self, used_bytes: int, quota_bytes: int) -> None:
        super().__init__(
            f"This sandbox holds {used_bytes / MIB:.0f} MiB of data; the limit is {quota_bytes // MIB} MiB "
            "per sandbox, so SQL, migrations and deploys are refused until you free space: reset an "
            "environment (Reset dev; `npx prisma migrate reset` in the terminal for another one; restore "
            "prod from a backup; or Reset exercise)."
        )
        self.used_bytes = used_bytes
        self.quota_bytes = quota_bytes


MIB = 1024 * 1024
ROLE_CONNINFOS = 8192


@dataclass
class Server:
    """One server. `admin` holds connection parameters of a role that can create roles and databases.

    The app reaches workspace databases through `app_host` (a Unix socket for the embedded cluster: no TCP
    overhead); learners are shown URLs with `public_host`.
    """

    admin: dict[str, str | int]
    admin_db: str
    app_host: str
    app_port: int
    public_host: str
    public_port: int
    _pool: ConnectionPool | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _facts: dict[str, object] = field(default_factory=dict, repr=False)
    warm: WarmConnections = field(default_factory=WarmConnections, repr=False)
    _role_conninfos: dict[tuple[str, str, str], str] = field(default_factory=dict, repr=False)

    def admin_conninfo(self, dbname: str | None = None) -> str:
        return make_conninfo("", **self.admin, dbname=dbname or self.admin_db)

    def role_conninfo(self, role: str, password: str, dbname: str) -> str:
        # Remembered: make_conninfo has libpq parse its result, a tenth of the app's CPU in a panel view
        # (one per environment and more). A string per workspace database; dropped whole past a class's worth.
        key = (role, password, dbname)
        found = self._role_conninfos.get(key)
        if found is None:
            found = make_conninfo(
                host=self.app_host, port=self.app_port, user=role, password=password, dbname=dbname
            )
            if len(self._role_conninfos) >= ROLE_CONNINFOS:
                self._role_conninfos.clear()
            self._role_conninfos[key] = found
        return found

    def url(self, role: str, password: str, dbname: str) -> str:
        return (
            f"postgresql://{role}:{quote(password, safe='')}@{self.public_host}:{self.public_port}/{dbname}"
        )

    @contextmanager
    def admin_connection(self) -> Iterator[psycopg.Connection]:
        """An autocommit admin connection to the admin database, from a small pool (CREATE DATABASE
        cannot run inside a transaction, and connecting costs more than the statements we run)."""
        with self._lock:
            if self._pool is None:
                self._pool = ConnectionPool(
                    self.admin_conninfo(),
                    min_size=2,
                    max_size=10,
                    kwargs={"autocommit": True, "options": "-c search_path=pg_catalog"},
                    name="sandbox-admin",
                    open=True,
                    timeout=ADMIN_WAIT_S,
                    # A connection to a server that died is noticed here, not in the caller's query.
                    check=ConnectionPool.check_connection,
                )
        try:
            with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise SandboxError(
                f"No admin connection to the sandbox server within {ADMIN_WAIT_S} s: {exc}"
            ) from exc

    def fact(self, name: str) -> object:
        """Server facts read once: `superuser` (is the admin one), `version` (server_version_num)."""
        if name not in self._facts:
            with self.admin_connection() as conn:
                row = conn.execute(
                    "SELECT rolsuper, current_setting('server_version_num')::int"
                    " FROM pg_roles WHERE rolname = current_user"
                ).fetchone()
            assert row is not None
            self._facts.update(superuser=row[0], version=row[1])
        return self._facts[name]

    def close(self) -> None:
        self.warm.close()
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


class Provider(Protocol):
    """Where workspaces live. `shared` providers hold every workspace on one server, which also keeps
    the registry of workspaces; the docker provider gives each workspace its own server."""

    name: str
    shared: bool

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def server_for(self, workspace_id: str, create: bool) -> Server | None: ...

    def release(self, workspace_id: str) -> None: ...

    def stray_workspaces(self, known: set[str]) -> list[str]: ...
