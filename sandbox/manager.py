"""SandboxManager: the one object the app holds. It starts a provider, hands out workspaces (warm when it
can), rebuilds lost ones under the same id, and runs the warm pool and the reaper in the background."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from sandbox import names
from sandbox.cluster import EmbeddedCluster
from sandbox.config import SandboxSettings
from sandbox.leader import Leadership
from sandbox.pool import WarmPool
from sandbox.providers import Provider, QuotaExceeded, SandboxError, SandboxFull, Server, make_provider
from sandbox.providers.server import ServerProvider, server_key
from sandbox.reaper import Reaper
from sandbox.registry import MemoryRegistry, PgRegistry, Registry, WorkspaceInfo
from sandbox.workspace import Activity, RoleLimits, Workspace, activity_of, create_objects, drop_objects

log = logging.getLogger(__name__)

SECRET_FILE = "sandbox-secret"
# A registry row whose role never appeared is a creation that died half-way, once it is this old.
LOST_AFTER_S = 120
LOCK_STRIPES = 64
MIB = 1024 * 1024
EMPTY_DB_BYTES = 7_700_000  # what an empty database takes, when the server does not say (no rights)


class SandboxManager:
    def __init__(self, provider: Provider, settings: SandboxSettings, secret: str) -> None:
        self.provider = provider
        self.settings = settings
        self.prefix = settings.sandbox_prefix
        self._secret = secret.encode()
        self.limits = RoleLimits(
            statement_timeout_ms=settings.statement_timeout_ms,
            lock_timeout_ms=settings.lock_timeout_ms,
            idle_in_transaction_timeout_ms=settings.idle_in_transaction_timeout_ms,
            temp_file_limit_kb=settings.temp_file_limit_kb,
            work_mem_kb=settings.work_mem_kb,
            connection_limit=settings.connection_limit,
        )
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sandbox")
        self._registry: Registry | None = None
        # Several sandbox servers: workspaces are placed on the least loaded one and stay there.
        self._servers = (
            provider if isinstance(provider, ServerProvider) and len(provider.servers) > 1 else None
        )
        # Striped: building, dropping and rebuilding one workspace never overlap in this process.
        self._locks = [threading.Lock() for _ in range(LOCK_STRIPES)]
        self._leadership: Leadership | None = None
        self.pool = WarmPool(
            settings.pool_size, lambda: self.registry.count_pooled(), self._build_pooled, active=self.leads
        )
        self.reaper = Reaper(
            self._sweep_if_leader, self._watchdog_if_leader, settings.reaper_interval_seconds
        )
        self._heal_lock = threading.Lock()
        # Set before start() to have the warm pool prepare each workspace it builds (e.g. the app's
        # starter migrated in every environment), so that a class arriving at once only claims them.
        # Returns a label handed to the claimer as `Workspace.prepared`; it must use connections of its
        # own (a kept session of the builder's process would count against the claimer's).
        self.prepare_pooled: Callable[[Workspace], str] | None = None
        self._empty_db_bytes: int | None = None
        self.over_quota: set[str] = set()  # workspaces the watchdog or an action found over their quota
        self._last_bytes: dict[str, int] = {}  # data per busy workspace role at the last watchdog round
        self.restarts = 0  # times the server was found dead and restarted
        self._stopping = False  # set by stop(): a server that goes away then is not restarted

    @classmethod
    def from_settings(
        cls, settings: SandboxSettings | None = None, data_dir: Path = Path("data"), secret: str | None = None
    ) -> SandboxManager:
        settings = settings or SandboxSettings()
        secret = secret or settings.sandbox_secret or load_or_create_secret(data_dir)
        return cls(make_provider(settings, data_dir), settings, secret)

    @classmethod
    def over_cluster(
        cls, cluster: EmbeddedCluster, settings: SandboxSettings | None = None, secret: str | None = None
    ) -> SandboxManager:
        """Workspaces on a cluster that someone else started and stops (a test session's)."""
        from sandbox.providers.embedded import EmbeddedProvider

        settings = settings or SandboxSettings(pool_size=0)
        return cls(EmbeddedProvider.over(cluster), settings, secret or secrets.token_urlsafe(32))

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self, background: bool = True) -> None:
        """Start the provider; with `background`, also the warm-pool refiller and the reaper."""
        self.provider.start()
        self._check_connection_budget()
        self._open_registry()
        self._sync_passwords()
        if background:
            self.pool.start()
            self.reaper.start()

    def _open_registry(self) -> None:
        if self.provider.shared:
            self._registry = PgRegistry(self._shared_server(), self.prefix)
            self._leadership = Leadership(self._shared_server(), self.prefix)
        else:
            self._registry = MemoryRegistry()
        self._registry.ensure()

    def stop(self) -> None:
        """Quick even with actions in flight: queued builds are cancelled, running ones end with the
        server (their requests fail; the app's state keeps what they had saved)."""
        self._stopping = True
        self.pool.stop()
        self.reaper.stop()
        if self._leadership is not None:
            self._leadership.release()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.provider.stop()

    def _check_connection_budget(self) -> None:
        """Every workspace role using its whole connection limit at once must still leave the app its
        reserved connections: else one class could lock the app (and new learners) out of the server."""
        if not self.provider.shared:
            return
        settings = self.settings
        needed = settings.connection_limit * settings.max_workspaces + settings.reserved_connections
        for server in self.servers():  # workspaces may all land on any one of them
            self._check_budget_of(server, needed)

    def _check_budget_of(self, server: Server, needed: int) -> None:
        settings = self.settings
        with server.admin_connection() as conn:
            row = conn.execute(
                "SELECT current_setting('max_connections')::int,"
                " current_setting('superuser_reserved_connections')::int"
            ).fetchone()
        assert row is not None
        available = row[0] - row[1]
        if needed > available:
            raise SandboxError(
                f"The connection budget does not fit the sandbox server: CONNECTION_LIMIT "
                f"{settings.connection_limit} x MAX_WORKSPACES {settings.max_workspaces} + "
                f"RESERVED_CONNECTIONS {settings.reserved_connections} = {needed}, but the server takes "
                f"{available} (max_connections {row[0]} minus {row[1]} superuser slots). Lower "
                "MIGRATION_LAB_CONNECTION_LIMIT or MIGRATION_LAB_MAX_WORKSPACES, or raise max_connections."
            )

    # -- health ------------------------------------------------------------------------------------

    def alive(self) -> bool:
        """A cheap check, no connection: False only when the provider knows its server is gone (the
        embedded cluster's postmaster)."""
        alive = getattr(self.provider, "alive", None)
        return bool(alive()) if alive is not None else True

    def healthy(self) -> bool:
        """Whether the sandbox server answers now (its postmaster runs, a short connect and SELECT 1)."""
        if self._stopping:
            return False
        if not self.provider.shared:
            return True
        alive = getattr(self.provider, "alive", None)
        try:
            if alive is not None and not alive():
                return False
            conninfo = self._shared_server().admin_conninfo()
            with psycopg.connect(conninfo, connect_timeout=2, autocommit=True) as conn:
                conn.execute("SELECT 1")
            return True
        except (psycopg.Error, RuntimeError, SandboxError):
            return False

    def recover(self) -> bool:
        """After a failed connection: True when the server answers, restarting it first when it died and
        this process owns it (the embedded cluster). Workspaces then come back through
        `ensure_workspace`: their state is all in the app's database."""
        with self._heal_lock:
            if self.healthy():
                return True
            if self._stopping or not getattr(self.provider, "can_restart", False):
                return False
            log.warning("the sandbox server died: restarting it (workspaces are rebuilt on demand)")
            self.provider.restart()  # type: ignore[attr-defined]
            self._empty_db_bytes = None
            self.over_quota.clear()
            self._open_registry()
            self.restarts += 1
            self.pool.taken()  # refill the warm pool the crash emptied
            return self.healthy()

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            raise SandboxError("The sandbox manager is not started: call start() first.")
        return self._registry

    # -- workspaces --------------------------------------------------------------------------------

    def create_workspace(self, warm: bool = True) -> Workspace:
        """A new workspace: from the warm pool when it has one (one UPDATE), else built cold (when there
        is room: see `check_capacity`). `prepared` says what `prepare_pooled` did to it ('' if nothing)."""
        if warm and self.settings.pool_size > 0:
            claimed = self.registry.claim()
            if claimed is not None:
                info, start = claimed
                self.pool.taken()
                server = self._server_of(info.id, info)
                if server is not None:
                    workspace = self._handle(info.id, server)
                    workspace.prepared = start
                    if start:  # what the preparation left is known: say what happened to it since
                        with server.admin_connection() as conn:
                            _with_activity(workspace, activity_of(conn, self.prefix, info.id))
                    return workspace
                self.registry.remove(info.id)
            self.pool.taken()
        self.check_capacity()
        return self._build(names.new_workspace_id(), "active")

    def check_room(self) -> None:
        """Raise SandboxFull when a new learner would get no workspace: none ready in the warm pool and no
        room to build one. A pooled workspace counts in MAX_WORKSPACES already, so a class that fills the
        sandbox with a pool made for it before it came is still let in."""
        if self.settings.pool_size > 0 and self.registry.count_pooled() > 0:
            return
        self.check_capacity()

    def check_capacity(self) -> None:
        """Raise SandboxFull when another workspace would exceed MAX_WORKSPACES or take the sandbox's
        filesystem under its free-space floor."""
        count = len(self.registry.all())
        if count >= self.settings.max_workspaces:
            raise SandboxFull(
                f"The sandbox holds {count} workspaces, the most it may (MIGRATION_LAB_MAX_WORKSPACES). "
                "Idle ones are dropped after a while: try again later. Your existing sandboxes keep working."
            )
        path = getattr(self.provider, "data_path", None)
        if path is not None and self.settings.min_free_mb:
            free = shutil.disk_usage(path).free
            if free < self.settings.min_free_mb * MIB:
                raise SandboxFull(
                    f"The sandbox's disk has {free // MIB} MiB free, under the "
                    f"{self.settings.min_free_mb} MiB it keeps free (MIGRATION_LAB_MIN_FREE_MB): no new "
                    "sandbox until space is freed. Your existing sandboxes keep working."
                )

    # -- quotas ------------------------------------------------------------------------------------

    def workspace_bytes(
        self, workspace_id: str, server: Server | None = None, known: Mapping[str, int] | None = None
    ) -> int:
        """Data the workspace holds over all its databases (backups included), beyond what empty
        databases take. `server`: the one holding it, when the caller has it (`Workspace.server`).
        `known`: the size of databases the caller vouches unchanged since it measured them (by name),
        which are not measured again (measuring stats every file of a database)."""
        start = names.role_name(self.prefix, names.check_workspace_id(workspace_id)) + "_"
        server = server or self._server_of(workspace_id, self.registry.get(workspace_id))
        if server is None:
            return 0
        known = known or {}
        with server.admin_connection() as conn:
            empty = self._empty_size(conn)
            sizes = conn.execute(
                "SELECT datname, CASE WHEN datname = ANY(%s) THEN NULL ELSE pg_database_size(oid) END"
                " FROM pg_database WHERE left(datname, %s) = %s",
                (list(known), len(start), start),
            ).fetchall()
        return sum(max(0, (known[name] if size is None else size) - empty) for name, size in sizes)

    def check_quota(
        self, workspace_id: str, server: Server | None = None, known: Mapping[str, int] | None = None
    ) -> None:
        """Raise QuotaExceeded (naming the limit and the way out) when the workspace is over its quota.
        `server` and `known` as for workspace_bytes."""
        if not self.provider.shared:
            return  # a container per workspace: its own disk
        used = self.workspace_bytes(workspace_id, server, known)
        quota = self.settings.workspace_quota_mb * MIB
        if used > quota:
            self.over_quota.add(workspace_id)
            raise QuotaExceeded(used, quota)
        self.over_quota.discard(workspace_id)

    def _empty_size(self, conn: psycopg.Connection) -> int:
        if self._empty_db_bytes is None:
            try:
                row = conn.execute("SELECT pg_database_size('template0')").fetchone()
                self._empty_db_bytes = int(row[0]) if row else EMPTY_DB_BYTES
            except psycopg.Error:
                self._empty_db_bytes = EMPTY_DB_BYTES
        return self._empty_db_bytes

    def _enforce_quotas(self, conn: psycopg.Connection) -> int:
        """Cancel the running queries of workspaces over their quota and growing (a CREATE TABLE AS
        growing by hundreds of MiB a second is stopped within a watchdog round); only roles with a
        running query are measured. Returns how many queries were cancelled."""
        start = self.prefix + "_"
        empty = self._empty_size(conn)
        rows = conn.execute(
            "WITH busy AS (SELECT DISTINCT usename::text AS role FROM pg_stat_activity"
            "  WHERE state = 'active' AND left(usename, %s) = %s)"
            " SELECT b.role, sum(greatest(pg_database_size(d.oid) - %s, 0))::bigint FROM busy b"
            " JOIN pg_database d ON left(d.datname, length(b.role) + 1) = b.role || '_'"
            " GROUP BY b.role",
            (len(start), start, empty),
        ).fetchall()
        quota = self.settings.workspace_quota_mb * MIB
        # Only a workspace over the quota that grew since the last round: its reads, and the reset that
        # is its way out, are left alone.
        over = [role for role, used in rows if used > max(quota, self._last_bytes.get(role, quota))]
        self._last_bytes = {role: used for role, used in rows}
        if not over:
            return 0
        for role in over:
            if (workspace_id := names.workspace_of(self.prefix, role)) is not None:
                self.over_quota.add(workspace_id)
        cancelled = conn.execute(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity"
            " WHERE state = 'active' AND usename = ANY(%s)",
            (over,),
        ).fetchall()
        log.warning("sandbox watchdog: %s over quota, %d queries cancelled", over, len(cancelled))
        return len(cancelled)

    def open_workspace(self, workspace_id: str) -> Workspace | None:
        """The workspace if it exists (marking it used), else None: see `ensure_workspace`."""
        names.check_workspace_id(workspace_id)
        info = self.registry.get(workspace_id)
        server = self._server_of(workspace_id, info) if info else None
        if info is None or info.state != "active" or server is None:
            return None
        self.registry.touch(workspace_id)
        return self._handle(workspace_id, server)

    def ensure_workspace(self, workspace_id: str) -> tuple[Workspace, bool]:
        """The workspace, rebuilt empty under the same id (same role, password and URLs) when its
        databases were reaped or lost in a restart; the flag says whether it was rebuilt. The handle's
        `activity` comes from the same round trip as the check that its databases exist."""
        names.check_workspace_id(workspace_id)
        with self._lock_for(workspace_id):
            # Marked used before its databases are looked at: in use either way, as it is or rebuilt (a
            # round trip less at every learner action than reading, then touching the row).
            info = self.registry.touch(workspace_id)
            server = self._server_of(workspace_id, info) if info else None
            if info is not None and server is not None:
                try:
                    with server.admin_connection() as conn:
                        present = activity_of(conn, self.prefix, workspace_id)
                except (psycopg.OperationalError, SandboxError) as exc:
                    raise self._server_down(workspace_id, server) from exc
                if all(names.db_name(self.prefix, workspace_id, env) in present for env in names.ENVS):
                    found = [a for a in present.values() if a is not None]
                    if found:  # counted in the same round trip: the action's loans need not count again
                        role = names.role_name(self.prefix, workspace_id)
                        server.warm.note_kept(role, sum(a.kept for a in found))
                    return _with_activity(self._handle(workspace_id, server), present), False
            self._drop_unlocked(workspace_id)
            return self._build_unlocked(workspace_id, "active"), True

    def drop_workspace(self, workspace_id: str) -> None:
        """Drop the workspace's databases, backups and role. Dropping a missing workspace does nothing."""
        names.check_workspace_id(workspace_id)
        with self._lock_for(workspace_id):
            self._drop_unlocked(workspace_id)

    def touch(self, workspace_id: str) -> None:
        """Mark the workspace used now, so that the reaper leaves it alone for another TTL."""
        self.registry.touch(names.check_workspace_id(workspace_id))

    def list_workspaces(self) -> list[WorkspaceInfo]:
        return self.registry.all()

    def admin_conninfo(self, dbname: str | None = None) -> str:
        """Admin connection string of the shared (home) server (grading databases, operations); never for
        learner SQL."""
        return self._shared_server("An admin connection").admin_conninfo(dbname)

    def admin_conninfo_for(self, workspace_id: str, dbname: str | None = None) -> str:
        """Admin connection string of the server holding this workspace (with several sandbox servers,
        templates a workspace copies must live on its own server); never for learner SQL."""
        server = self._server_of(workspace_id, self.registry.get(names.check_workspace_id(workspace_id)))
        if server is None:
            raise SandboxError(f"Workspace {workspace_id} has no server.")
        return server.admin_conninfo(dbname)

    def servers(self) -> list[Server]:
        """The servers that answer now (the one shared server, or each of several)."""
        if self._servers is not None:
            return self._servers.reachable()
        return [self._shared_server()] if self.provider.shared else []

    def fill_pool(self) -> int:
        """Fill the warm pool now (the background thread does this by itself); returns how many were built."""
        return self.pool.fill()

    # -- reaping -----------------------------------------------------------------------------------

    def reap_idle(self, idle_seconds: float | None = None) -> list[str]:
        """Drop workspaces unused for the TTL; the app keeps their state and calls ensure_workspace."""
        ttl = self.settings.workspace_ttl_seconds if idle_seconds is None else idle_seconds
        reaped = []
        for workspace_id in self.registry.idle(ttl):
            with self._lock_for(workspace_id):
                if workspace_id in self.registry.idle(ttl):  # not touched meanwhile
                    self._drop_unlocked(workspace_id)
                    reaped.append(workspace_id)
        return reaped

    def remove_orphans(self) -> list[str]:
        """Drop roles and databases of this prefix that no registered workspace owns (a crash between
        creating and registering, or a registry lost with the app's data), and forget registered
        workspaces whose role is gone. Returns the ids whose objects were dropped."""
        for workspace_id in self.registry.stale_builds(LOST_AFTER_S):  # a process died while building
            self.drop_workspace(workspace_id)
        known = {info.id for info in self.registry.all()}
        if not self.provider.shared:
            return self.provider.stray_workspaces(known)
        orphans = []
        for server in self.servers():
            orphans += self._remove_orphans_on(server, known)
        with self._shared_server().admin_connection() as conn:
            conn.execute(
                "DELETE FROM migration_lab_sandbox.workspaces w WHERE prefix = %s"
                " AND created_at < now() - make_interval(secs => %s)"
                " AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = w.prefix || '_' || w.id)",
                (self.prefix, LOST_AFTER_S),
            )
        return sorted(orphans)

    def _remove_orphans_on(self, server: Server, known: set[str]) -> list[str]:
        start = self.prefix + "_"
        with server.admin_connection() as conn:
            found = conn.execute(
                "SELECT rolname FROM pg_roles WHERE left(rolname, %s) = %s"
                " UNION SELECT datname FROM pg_database WHERE left(datname, %s) = %s",
                (len(start), start, len(start), start),
            ).fetchall()
        on_server = {wid for (name,) in found if (wid := names.workspace_of(self.prefix, name))}
        orphans = sorted(on_server - known)
        for workspace_id in orphans:
            with self._lock_for(workspace_id):
                if self.registry.get(workspace_id) is None:
                    drop_objects(server, self._executor, self.prefix, workspace_id)
        return orphans

    def leads(self) -> bool:
        """Whether this process runs the background work of the pool and reaper: always alone, the one
        holding the leader lock when several processes share a server."""
        return self._leadership is None or self._leadership.held()

    def _sweep_if_leader(self) -> None:
        if self.leads():
            self.sweep()

    def _watchdog_if_leader(self) -> None:
        if self.leads():
            self.watchdog()

    def sweep(self) -> None:
        """One round of the reaper: idle workspaces, then orphans."""
        reaped = self.reap_idle()
        orphans = self.remove_orphans()
        if reaped or orphans:
            log.info("sandbox reaper: dropped idle %s, orphans %s", reaped, orphans)

    def watchdog(self) -> int:
        """Cancel learner queries running over twice the statement timeout, end sessions idle in a
        transaction over twice that timeout (learners can SET both lower limits away), cancel the queries
        of workspaces over their quota. A server found dead is restarted (`recover`). Returns how many
        sessions it acted on."""
        if not self.provider.shared:
            return 0  # one container per workspace: the role defaults are all there is
        if not self.alive():  # seen at once, not after the admin pool's wait for a connection
            self.recover()
            return 0
        try:
            return sum(self._watch(server) for server in self.servers())
        except (psycopg.OperationalError, SandboxError):
            if self.recover():
                return 0
            raise

    def _watch(self, server: Server) -> int:
        start = self.prefix + "_"
        with server.admin_connection() as conn:
            cancelled = self._enforce_quotas(conn)
            rows = conn.execute(
                "SELECT CASE WHEN state = 'active' THEN pg_cancel_backend(pid)"
                " ELSE pg_terminate_backend(pid) END"
                " FROM pg_stat_activity WHERE left(usename, %s) = %s AND ("
                "  (state = 'active' AND now() - query_start > make_interval(secs => %s))"
                "  OR (state LIKE 'idle in transaction%%'"
                "      AND now() - state_change > make_interval(secs => %s)))",
                (
                    len(start),
                    start,
                    2 * self.settings.statement_timeout_ms / 1000,
                    2 * self.settings.idle_in_transaction_timeout_ms / 1000,
                ),
            ).fetchall()
        return cancelled + len(rows)

    # -- template databases (exercise seeds) ---------------------------------------------------------

    def create_template(self, name: str, setup_sql: str = "") -> str:
        """(Re)create a template database owned by the admin and run `setup_sql` in it; returns the
        database name to pass to `Workspace.create_env_from_template`. Close your sessions on it before
        copying: PostgreSQL copies only databases nobody is connected to."""
        dbname = names.template_db_name(self.prefix, name)
        self._shared_server("Template databases")
        for server in self.servers():  # a workspace copies templates from its own server
            with server.admin_connection() as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
                )
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(dbname)))
                conn.execute(
                    sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(
                        sql.Identifier(dbname)
                    )
                )
            if setup_sql.strip():
                with psycopg.connect(server.admin_conninfo(dbname), autocommit=True) as conn:
                    conn.execute(setup_sql.encode())  # bytes: several statements, no parameters
        return dbname

    def template_exists(self, name: str) -> bool:
        dbname = names.template_db_name(self.prefix, name)
        with self._shared_server("Template databases").admin_connection() as conn:
            return (
                conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone() is not None
            )

    def template_conninfo(self, name: str) -> str:
        return self._shared_server("Template databases").admin_conninfo(
            names.template_db_name(self.prefix, name)
        )

    def drop_template(self, name: str) -> None:
        dbname = names.template_db_name(self.prefix, name)
        self._shared_server("Template databases")
        for server in self.servers():
            with server.admin_connection() as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
                )

    # -- internals ---------------------------------------------------------------------------------

    def password_for(self, workspace_id: str) -> str:
        """Derived from the secret, so a workspace rebuilt after a restart keeps its URLs."""
        digest = hmac.new(self._secret, f"{self.prefix}:{workspace_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:32]

    def _sync_passwords(self) -> None:
        """Workspaces kept on a server from an earlier run get the passwords of the current secret."""
        if not self.provider.shared:
            return
        ids = [info.id for info in self.registry.all()]
        for server in self.servers():
            with server.admin_connection() as conn, conn.transaction():
                existing = {
                    row[0]
                    for row in conn.execute(
                        "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)",
                        ([names.role_name(self.prefix, i) for i in ids],),
                    )
                }
                for workspace_id in ids:
                    role = names.role_name(self.prefix, workspace_id)
                    if role in existing:
                        conn.execute(
                            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                                sql.Identifier(role), sql.Literal(self.password_for(workspace_id))
                            )
                        )

    def _handle(self, workspace_id: str, server: Server) -> Workspace:
        return Workspace(workspace_id, self.prefix, self.password_for(workspace_id), server, self._executor)

    def _build_pooled(self) -> None:
        self.check_capacity()  # a full sandbox stops refilling the pool too
        if self.prepare_pooled is None:
            self._build(names.new_workspace_id(), "pool")
            return
        workspace = self._build(names.new_workspace_id(), "building")  # not handed out half-prepared
        try:
            start = self.prepare_pooled(workspace)
        except Exception:
            self.drop_workspace(workspace.id)
            raise
        self.registry.set_state(workspace.id, "pool", start)

    def _build(self, workspace_id: str, state: str) -> Workspace:
        with self._lock_for(workspace_id):
            return self._build_unlocked(workspace_id, state)

    def _build_unlocked(self, workspace_id: str, state: str) -> Workspace:
        info = self.registry.get(workspace_id)
        if (
            self._servers is not None
        ):  # a rebuild stays on its server; a new workspace goes where least loaded
            placed = self._server_of(workspace_id, info) if info else None
            server = placed or self._servers.place(self.registry.loads())
            key = server_key(server)
        else:
            built = self.provider.server_for(workspace_id, create=True)
            assert built is not None
            server, key = built, ""
        self.registry.add(workspace_id, "building", key)
        try:
            create_objects(
                server,
                self._executor,
                self.prefix,
                workspace_id,
                self.password_for(workspace_id),
                self.limits,
            )
        except Exception as exc:
            try:
                self._drop_unlocked(workspace_id)
            except Exception:
                log.exception("cleaning up the half-built workspace %s failed", workspace_id)
            if isinstance(exc, psycopg.Error):
                raise SandboxError(f"Could not create workspace {workspace_id}: {str(exc).strip()}") from exc
            raise
        self.registry.set_state(workspace_id, state)
        return self._handle(workspace_id, server)

    def _drop_unlocked(self, workspace_id: str) -> None:
        info = self.registry.get(workspace_id)
        if self._servers is not None and info is None:
            server = None  # never registered: nothing was built anywhere
        else:
            server = self._server_of(workspace_id, info)
        if server is not None:
            drop_objects(server, self._executor, self.prefix, workspace_id)
        self.registry.remove(workspace_id)
        self.provider.release(workspace_id)

    def _server_of(self, workspace_id: str, info: WorkspaceInfo | None) -> Server | None:
        """The server holding a registered workspace (None where the provider has none for it)."""
        if self._servers is None:
            return self.provider.server_for(workspace_id, create=False)
        key = info.server if info else ""
        server = self._servers.server_named(key)
        if server is None:
            raise SandboxError(
                f"Workspace {workspace_id} lives on the sandbox server {key}, which is no longer in "
                "MIGRATION_LAB_SANDBOX_URL."
            )
        if not self._servers.answers(server, probe=False):
            raise self._server_down(workspace_id, server)
        return server

    def _server_down(self, workspace_id: str, server: Server) -> SandboxError:
        if self._servers is not None:
            self._servers.mark_down(server)
        return SandboxError(
            f"The sandbox server holding your databases ({server_key(server)}) does not answer right now. "
            "Your work is saved: try again in a few minutes."
        )

    def _shared_server(self, feature: str = "") -> Server:
        if not self.provider.shared:
            raise SandboxError(
                f"{feature or 'This'} needs a shared server: use the embedded or server provider."
            )
        server = self.provider.server_for("shared", create=False)
        assert server is not None
        return server

    @contextmanager
    def _lock_for(self, workspace_id: str) -> Iterator[None]:
        with self._locks[hash(workspace_id) % LOCK_STRIPES]:
            yield


def load_or_create_secret(data_dir: Path) -> str:
    """The secret workspace passwords derive from, created once per data dir (mode 0600)."""
    path = data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


def _with_activity(workspace: Workspace, found: dict[str, Activity | None]) -> Workspace:
    for env in names.ENVS:
        if (activity := found.get(workspace.dbname(env))) is not None:
            workspace.activity[env] = activity
    return workspace
