"""A learner's workspace: a login role owning four databases (dev, staging, prod, shadow) on one server.

Every name that reaches SQL is validated by `sandbox.names` and quoted with `psycopg.sql`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql

from sandbox import names
from sandbox.providers.base import SandboxError, Server
from sandbox.warm import APPLICATION_NAME, LENT_NAME

# Every admin session that enters a database a learner may have written to: nothing resolves through
# a schema the learner can create objects in.
ADMIN_OPTIONS = "-c search_path=pg_catalog"
# Seconds during which CREATE DATABASE ... TEMPLATE is retried while sessions leave the source.
SOURCE_BUSY_RETRY_S = 2.0


@dataclass(frozen=True)
class Activity:
    """What tells a caller whether a database may have changed since it last read it, without reading
    it: a recreated database has a new `oid`; every session ever opened on it counts in `sessions` (a
    session's own count is flushed at the latest when it ends, and it shows in pg_stat_activity until
    then); `others` are the sessions on it now besides the platform's kept ones (sandbox.warm). Only
    the platform's kept sessions can change a database unseen here: `Workspace.touched` names those."""

    oid: int
    sessions: int
    others: int
    # Since when `sessions` counts: the server's start and the database's last statistics reset (either
    # starts the count again, which could climb back to a value seen before).
    counted_since: str = ""
    # The workspace role's sessions kept idle on it by the platform (sandbox.warm), every process's.
    kept: int = 0


@dataclass(frozen=True)
class RoleLimits:
    statement_timeout_ms: int
    lock_timeout_ms: int
    idle_in_transaction_timeout_ms: int
    temp_file_limit_kb: int
    work_mem_kb: int
    connection_limit: int

    def role_settings(self, superuser_admin: bool) -> dict[str, str]:
        settings = {
            "statement_timeout": f"{self.statement_timeout_ms}ms",
            "lock_timeout": f"{self.lock_timeout_ms}ms",
            "idle_in_transaction_session_timeout": f"{self.idle_in_transaction_timeout_ms}ms",
            "work_mem": f"{self.work_mem_kb}kB",
        }
        if superuser_admin:  # temp_file_limit is a superuser setting, even as a role default
            settings["temp_file_limit"] = f"{self.temp_file_limit_kb}kB"
        return settings


class Workspace:
    """Handle on one workspace. The app uses `conninfo(env)`; learners see `url(env)`."""

    def __init__(self, workspace_id: str, prefix: str, password: str, server: Server, executor: Executor):
        self.id = names.check_workspace_id(workspace_id)
        self.prefix = prefix
        self.role = names.role_name(prefix, workspace_id)
        self.password = password
        self.server = server
        self._executor = executor
        self.prepared = ""  # from the warm pool: what SandboxManager.prepare_pooled did to it
        # Environments this handle lent a session to, handed a conninfo for, or replaced: they may have
        # changed through it since `activity` was read (`observing` is the one way in that does not count).
        self.touched: set[str] = set()
        # Each database's activity when SandboxManager.ensure_workspace opened this handle (by env).
        self.activity: dict[str, Activity] = {}
        # Sessions this handle's kept connections opened since (by env): each counts in the database's
        # `Activity.sessions` at once, so a reading taken now can be saved with them and still hold.
        self.opened: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"Workspace({self.id!r}, role={self.role!r})"

    def dbname(self, env: str) -> str:
        return names.db_name(self.prefix, self.id, env)

    def conninfo(self, env: str) -> str:
        """Connect as the workspace role: the limits and isolation apply."""
        self.touched.add(env)
        return self._conninfo(env)

    def _conninfo(self, env: str) -> str:
        return self.server.role_conninfo(self.role, self.password, self.dbname(env))

    def url(self, env: str) -> str:
        return self.server.url(self.role, self.password, self.dbname(env))

    def reading(self, env: str) -> AbstractContextManager[psycopg.Connection]:
        """An autocommit connection as the workspace role, usually one kept open from an earlier loan
        (sandbox.warm): the panel's reads, its migration commands and the learner's console SQL. What the
        learner's SQL could leave in the session is reset (`DISCARD ALL`) before the next loan, a session
        left in a transaction or broken is closed, and the session never has more rights than the
        learner's own: grading, which must not trust the learner's session, uses its own connections."""
        return self.server.warm.connection(self.conninfo(env), opened=lambda: self._opened(env))

    def observing(self, env: str) -> AbstractContextManager[psycopg.Connection]:
        """A session as `reading` gives, for a caller that only reads (the panel's view of each
        environment): the environment does not count as `touched`."""
        return self.server.warm.connection(self._conninfo(env), opened=lambda: self._opened(env))

    def _opened(self, env: str) -> None:
        self.opened[env] = self.opened.get(env, 0) + 1

    def admin_conninfo(self, env: str) -> str:
        """Superuser (or admin) access to an environment: backups and operations only, never learner SQL."""
        self.touched.add(env)
        return self.server.admin_conninfo(self.dbname(env))

    # -- environments ----------------------------------------------------------------------------

    def reset_env(self, env: str) -> None:
        """Empty an environment: drop and recreate its database (sessions on it are ended)."""
        self.touched.add(env)
        dbname = self.dbname(env)
        with self.server.admin_connection() as conn:
            _drop_database(conn, dbname)
            _create_database(conn, self.server, dbname, self.role)

    def create_env_from_template(self, env: str, template_db: str) -> None:
        """Replace an environment by a copy of `template_db` (exercise seed data), owned by this role."""
        self.touched.add(env)
        dbname = self.dbname(env)
        with self.server.admin_connection() as conn:
            _drop_database(conn, dbname)
            _create_database(conn, self.server, dbname, self.role, template=template_db)
        with psycopg.connect(self.admin_conninfo(env), autocommit=True, options=ADMIN_OPTIONS) as conn:
            conn.execute(sql.SQL(REASSIGN_OBJECTS_SQL).format(role=sql.Literal(self.role)))

    def clone_env(self, src_env: str, backup_name: str) -> str:
        """Copy an environment into a backup database (e.g. prod before a deploy); returns its name.

        Sessions on the source are ended: PostgreSQL copies a database only while nobody is connected.
        The backup is owned by the admin, so the learner can neither connect to it nor drop it.
        """
        self.touched.add(src_env)
        backup = names.backup_db_name(self.prefix, self.id, backup_name)
        with self.server.admin_connection() as conn:
            _drop_database(conn, backup)
            _create_database(
                conn, self.server, backup, None, template=self.dbname(src_env), end_sessions=True
            )
        return backup

    @contextmanager
    def scratch_copy(self, src_env: str) -> Iterator[str]:
        """A throwaway copy of an environment owned by the workspace role, for the risk tracer: learner
        SQL run there keeps the role's rights and limits. Yields its conninfo (as the role); dropped on
        exit. Sessions on the source are ended, as for any copy."""
        self.touched.add(src_env)
        scratch = names.backup_db_name(self.prefix, self.id, f"risk_{secrets.token_hex(4)}")
        with self.server.admin_connection() as conn:
            _create_database(
                conn, self.server, scratch, self.role, template=self.dbname(src_env), end_sessions=True
            )
        try:
            yield self.server.role_conninfo(self.role, self.password, scratch)
        finally:
            with self.server.admin_connection() as conn:
                _drop_database(conn, scratch)

    def restore_env(self, env: str, backup_name: str) -> None:
        self.touched.add(env)
        backup = names.backup_db_name(self.prefix, self.id, backup_name)
        dbname = self.dbname(env)
        with self.server.admin_connection() as conn:
            if not _database_exists(conn, backup):
                raise SandboxError(f"Workspace {self.id} has no backup named {backup_name!r}.")
            _drop_database(conn, dbname)
            _create_database(conn, self.server, dbname, self.role, template=backup)

    def drop_backup(self, backup_name: str) -> None:
        with self.server.admin_connection() as conn:
            _drop_database(conn, names.backup_db_name(self.prefix, self.id, backup_name))

    def backups(self) -> list[str]:
        start = names.backup_db_name(self.prefix, self.id, "x")[:-1]
        return [db[len(start) :] for db in self.databases() if db.startswith(start)]

    def databases(self) -> list[str]:
        """Every database of this workspace: its environments and backups."""
        with self.server.admin_connection() as conn:
            return databases_of(conn, self.prefix, self.id)

    def size_bytes(self) -> int:
        with self.server.admin_connection() as conn:
            row = conn.execute(
                "SELECT coalesce(sum(pg_database_size(oid)), 0)::bigint FROM pg_database"
                " WHERE datname = ANY(%s)",
                (databases_of(conn, self.prefix, self.id),),
            ).fetchone()
        return int(row[0]) if row else 0


# -- creating and dropping the objects of a workspace --------------------------------------------


def create_objects(
    server: Server, executor: Executor, prefix: str, workspace_id: str, password: str, limits: RoleLimits
) -> None:
    """The role, then its four databases created concurrently (each CREATE DATABASE takes its own
    connection: it cannot share a transaction)."""
    role = names.role_name(prefix, workspace_id)
    superuser = bool(server.fact("superuser"))
    with server.admin_connection() as conn, conn.transaction():
        conn.execute(
            sql.SQL(
                "CREATE ROLE {role} LOGIN PASSWORD {pw} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
                " NOBYPASSRLS CONNECTION LIMIT {limit}"
            ).format(
                role=sql.Identifier(role),
                pw=sql.Literal(password),
                limit=sql.Literal(limits.connection_limit),
            )
        )
        for name, value in limits.role_settings(superuser).items():
            conn.execute(
                sql.SQL("ALTER ROLE {role} SET {name} = {value}").format(
                    role=sql.Identifier(role), name=sql.Identifier(name), value=sql.Literal(value)
                )
            )
        if not superuser:  # a CREATEROLE admin must be a member to create databases owned by the role
            conn.execute(sql.SQL("GRANT {role} TO CURRENT_USER").format(role=sql.Identifier(role)))

    def create(env: str) -> None:
        with server.admin_connection() as conn:
            _create_database(conn, server, names.db_name(prefix, workspace_id, env), role)

    _run_all(executor, create, names.ENVS)


def drop_objects(server: Server, executor: Executor, prefix: str, workspace_id: str) -> None:
    """Every database of the workspace (ending their sessions), then its role. Idempotent."""
    role = names.role_name(prefix, workspace_id)
    with server.admin_connection() as conn:
        dbs = databases_of(conn, prefix, workspace_id)

    def drop(dbname: str) -> None:
        with server.admin_connection() as conn:
            _drop_database(conn, dbname)

    _run_all(executor, drop, dbs)
    with server.admin_connection() as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {role}").format(role=sql.Identifier(role)))


# The sessions on the workspace's databases are counted (in the CTE, computed first) before their session
# counters are read: a session that is gone from the backends has already flushed its count. Backends are
# picked by id before a row is built for them: the pg_stat_activity view builds one (thirty columns) for
# every backend of the server, a class's thousand, and did so once per database as a correlated subquery.
ACTIVITY_OF = """
WITH mine AS MATERIALIZED (
  SELECT d.datname, d.oid FROM pg_database d WHERE left(d.datname, %(length)s) = %(start)s
), sessions AS MATERIALIZED (
  SELECT b.datid, b.userid, a.application_name, a.state
  FROM (SELECT pg_stat_get_backend_dbid(id) AS datid, pg_stat_get_backend_pid(id) AS pid,
               pg_stat_get_backend_userid(id) AS userid
        FROM pg_stat_get_backend_idset() AS id) b
  JOIN mine ON mine.oid = b.datid
  CROSS JOIN LATERAL pg_stat_get_activity(b.pid) a
), counted AS MATERIALIZED (
  SELECT datid,
         count(*) FILTER (WHERE application_name NOT IN (%(kept)s, %(lent)s)) AS others,
         count(*) FILTER (WHERE application_name = %(kept)s AND state = 'idle'
                          AND userid = (SELECT r.oid FROM pg_roles r WHERE r.rolname = %(role)s)) AS kept
  FROM sessions GROUP BY datid
)
SELECT m.datname, m.oid, coalesce(o.others, 0), pg_stat_get_db_sessions(m.oid),
       pg_postmaster_start_time()::text || ' ' || coalesce(pg_stat_get_db_stat_reset_time(m.oid)::text, ''),
       coalesce(o.kept, 0)
FROM mine m LEFT JOIN counted o ON o.datid = m.oid ORDER BY m.datname
"""


def activity_of(conn: psycopg.Connection, prefix: str, workspace_id: str) -> dict[str, Activity | None]:
    """The workspace's databases (as `databases_of`) with their activity; None for each on a server
    older than PostgreSQL 14 (no session counter there), whose callers then read every time."""
    role = names.role_name(prefix, workspace_id)
    start = role + "_"
    if conn.info.server_version < 140000:
        return dict.fromkeys(databases_of(conn, prefix, workspace_id))
    params = {"length": len(start), "start": start, "kept": APPLICATION_NAME, "lent": LENT_NAME, "role": role}
    rows = conn.execute(ACTIVITY_OF, params).fetchall()
    return {
        name: Activity(oid, int(sessions or 0), int(others), since, int(kept))
        for name, oid, others, sessions, since, kept in rows
    }


def databases_of(conn: psycopg.Connection, prefix: str, workspace_id: str) -> list[str]:
    start = names.role_name(prefix, workspace_id) + "_"
    rows = conn.execute(
        "SELECT datname FROM pg_database WHERE left(datname, %s) = %s ORDER BY datname", (len(start), start)
    ).fetchall()
    return [row[0] for row in rows]


def _run_all(executor: Executor, fn: Callable[[str], None], items: Iterable[str]) -> None:
    futures = [executor.submit(fn, item) for item in items]
    errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error


def _database_exists(conn: psycopg.Connection, dbname: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone() is not None


def _drop_database(conn: psycopg.Connection, dbname: str) -> None:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {db} WITH (FORCE)").format(db=sql.Identifier(dbname)))


def _create_database(
    conn: psycopg.Connection,
    server: Server,
    dbname: str,
    owner: str | None,
    template: str = "template0",
    end_sessions: bool = False,
) -> None:
    """CREATE DATABASE, copying files (FILE_COPY: ~8 ms from template0 on tmpfs, twice faster than
    WAL_LOG for small databases), then shut PUBLIC out of it."""
    statement = sql.SQL("CREATE DATABASE {db} TEMPLATE {tpl}").format(
        db=sql.Identifier(dbname), tpl=sql.Identifier(template)
    )
    if owner is not None:
        statement += sql.SQL(" OWNER {owner}").format(owner=sql.Identifier(owner))
    if int(server.fact("version")) >= 150000:  # type: ignore[call-overload]
        statement += sql.SQL(" STRATEGY FILE_COPY")
    deadline = time.monotonic() + SOURCE_BUSY_RETRY_S
    while True:
        if end_sessions:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
                " AND pid <> pg_backend_pid()",
                (template,),
            )
        try:
            conn.execute(statement)
            break
        except psycopg.errors.ObjectInUse as exc:
            # "source database is being accessed by other users": PostgreSQL waits 5 s itself, then gives up.
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"Cannot copy database {template!r}: it is in use ({exc.diag.message_primary}). "
                    "Close the sessions on it and retry."
                ) from exc
        except psycopg.errors.InvalidCatalogName as exc:
            raise SandboxError(f"Cannot copy database {template!r}: it does not exist.") from exc
    conn.execute(
        sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {db} FROM PUBLIC").format(db=sql.Identifier(dbname))
    )


# A copied template keeps the owners of its objects (the admin, or whoever seeded it); the learner must
# own everything in their environment to migrate it. Extension members and sequences owned by a column
# follow their extension or table. This runs as the admin in a database that may hold objects someone
# else created: the session's search_path is pg_catalog alone and every function, cast and operator is
# pg_catalog's, so no user-created function, operator or cast can be resolved (and run) here.
REASSIGN_OBJECTS_SQL = """
DO $$
DECLARE
    target pg_catalog.oid := pg_catalog.to_regrole({role})::pg_catalog.oid;
    item record;
BEGIN
    FOR item IN SELECT n.nspname FROM pg_catalog.pg_namespace n
            WHERE n.nspowner OPERATOR(pg_catalog.<>) target
            AND n.nspowner OPERATOR(pg_catalog.<>) 'pg_database_owner'::pg_catalog.regrole::pg_catalog.oid
            AND NOT pg_catalog.starts_with(n.nspname, 'pg_')
            AND n.nspname OPERATOR(pg_catalog.<>) 'information_schema' LOOP
        EXECUTE pg_catalog.format('ALTER SCHEMA %I OWNER TO %I', item.nspname, {role});
    END LOOP;
    FOR item IN SELECT n.nspname, c.relname FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
            WHERE c.relowner OPERATOR(pg_catalog.<>) target
            AND c.relkind OPERATOR(pg_catalog.=) ANY ('{{r,p,v,m,f,S}}'::pg_catalog."char"[])
            AND NOT pg_catalog.starts_with(n.nspname, 'pg_')
            AND n.nspname OPERATOR(pg_catalog.<>) 'information_schema'
            AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                            WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                            AND d.objid OPERATOR(pg_catalog.=) c.oid
                            AND d.deptype OPERATOR(pg_catalog.=) ANY ('{{a,i,e}}'::pg_catalog."char"[])) LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %I.%I OWNER TO %I', item.nspname, item.relname, {role});
    END LOOP;
    FOR item IN SELECT n.nspname, t.typname FROM pg_catalog.pg_type t
            JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) t.typnamespace
            WHERE t.typowner OPERATOR(pg_catalog.<>) target
            AND t.typtype OPERATOR(pg_catalog.=) ANY ('{{e,d,r,m}}'::pg_catalog."char"[])
            AND NOT pg_catalog.starts_with(n.nspname, 'pg_')
            AND n.nspname OPERATOR(pg_catalog.<>) 'information_schema'
            AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                            WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass
                            AND d.objid OPERATOR(pg_catalog.=) t.oid
                            AND d.deptype OPERATOR(pg_catalog.=) 'e') LOOP
        EXECUTE pg_catalog.format('ALTER TYPE %I.%I OWNER TO %I', item.nspname, item.typname, {role});
    END LOOP;
    FOR item IN SELECT n.nspname, p.proname,
                pg_catalog.pg_get_function_identity_arguments(p.oid) AS args
            FROM pg_catalog.pg_proc p
            JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
            WHERE p.proowner OPERATOR(pg_catalog.<>) target AND NOT pg_catalog.starts_with(n.nspname, 'pg_')
            AND n.nspname OPERATOR(pg_catalog.<>) 'information_schema'
            AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                            WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                            AND d.objid OPERATOR(pg_catalog.=) p.oid
                            AND d.deptype OPERATOR(pg_catalog.=) 'e') LOOP
        EXECUTE pg_catalog.format('ALTER ROUTINE %I.%I(%s) OWNER TO %I', item.nspname, item.proname,
                                  item.args, {role});
    END LOOP;
END
$$
"""
