"""Hidden grading databases: one seeded template per exercise and environment, cloned per grading run.

Who runs what:
- the templates are built by the admin and owned by it; their objects belong to `mlg_content`, a role
  nobody can log in as; they accept no connections (`ALLOW_CONNECTIONS false`, no `CONNECT` for anyone),
  so nothing a learner does can reach or change them;
- each grading run (and each play of `lessons check`) gets its own throwaway role (random name and
  password, no superuser, no CREATEDB/CREATEROLE) owning only that run's clones; the admin hands the
  clones' objects over with `REASSIGN OWNED`, which resolves no name a learner could have created;
- once the run's sessions are open the role is sealed (NOLOGIN, no password): a learner's migration that
  changes the role's password gains no login; the clones and the role are dropped at the end.

Every admin session runs with `search_path = pg_catalog`, so no admin statement resolves a learner's
function, operator or table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from app.exercises.fingerprints import Fingerprints, fingerprints
from app.exercises.history import apply_migration
from app.exercises.model import Exercise

log = logging.getLogger(__name__)

PREFIX = "mlg_"
CONTENT_ROLE = "mlg_content"  # owns the objects of every template; NOLOGIN, no member
RUN_PREFIX = "mlg_r_"  # throwaway roles: mlg_r_<epoch seconds>_<hex>; their clones: mlg_c_<same>_<n>
CLONE_PREFIX = "mlg_c_"
STALE_RUN_S = 3600  # a run role older than this was left by a crash: its clones and it are swept
SPARE_MAX_AGE_S = 1800  # a spare run older than this is dropped, never handed out
ROLE_LIMITS = {
    "statement_timeout": "10s",
    "lock_timeout": "5s",
    "idle_in_transaction_session_timeout": "30s",
}
# Sessions that read for the checks: fixed search path (pg_catalog first, so no learner function or
# operator shadows a built-in), read-only, no row-level policy run silently; set at connection start,
# which overrides any ALTER ROLE/DATABASE … SET the learner's SQL may have done.
CHECK_OPTIONS = (
    "-c search_path=pg_catalog,public -c default_transaction_read_only=on -c row_security=off"
    " -c statement_timeout=10s -c lock_timeout=2s"
)
ADMIN_OPTIONS = "-c search_path=pg_catalog"


class ContentError(Exception):
    """The exercise's own start state, seed or grading data does not run: the author must fix it."""


def content_hash(exercise: Exercise) -> str:
    state = {
        "start": asdict(exercise.start),
        "grading_data": exercise.grading_data,
        "layout": 3,  # templates owned by the admin, objects by pg_database_owner
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:12]


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


class GradingDatabases:
    """Templates and per-run clones on one PostgreSQL server reached with a superuser `admin_conninfo`."""

    def __init__(self, admin_conninfo: str) -> None:
        self.admin_conninfo = admin_conninfo
        self._lock = threading.Lock()
        self._templates: set[str] = set()
        self._content_role_ready = False
        self._swept = 0.0
        self._baselines: dict[str, Any] = {}
        self._pool: ConnectionPool | None = None
        # Dropping a run's clones and role takes a while and nobody waits for it: done in the background.
        self._dropper = ThreadPoolExecutor(max_workers=2, thread_name_prefix="grading-drop")
        self._dropping: list[Future] = []
        self._spares: dict[tuple[str | None, ...], Run] = {}
        self.workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="grading-open")

    def baseline(self, template: str, conn: psycopg.Connection) -> Fingerprints:
        """The data fingerprints of a template, read once on a fresh clone of it (clones keep its OIDs)."""
        if template not in self._baselines:
            self._baselines[template] = fingerprints(conn)
        return self._baselines[template]

    def _admin(self, dbname: str | None = None) -> psycopg.Connection:
        params = conninfo_to_dict(self.admin_conninfo)
        if dbname:
            params["dbname"] = dbname
        params["options"] = ADMIN_OPTIONS
        return psycopg.connect(make_conninfo("", **params), autocommit=True)

    @contextmanager
    def admin_session(self) -> Iterator[psycopg.Connection]:
        """A pooled admin session on the admin database (fixed search path): roles, clones, drops."""
        with self._lock:
            if self._pool is None:
                params = conninfo_to_dict(self.admin_conninfo)
                params["options"] = ADMIN_OPTIONS
                self._pool = ConnectionPool(
                    make_conninfo("", **params), min_size=1, max_size=8, kwargs={"autocommit": True},
                    name="grading-admin", open=True, timeout=30,
                )
        with self._pool.connection() as conn:
            yield conn

    def close(self) -> None:
        """Settle, then close the admin pool (before the server stops: the pool would keep reconnecting)."""
        self.settle()
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def settle(self) -> None:
        """Wait for the runs being dropped in the background and drop the spare ones (tests, `lessons
        check`, shutting down)."""
        with self._lock:
            pending, self._dropping = self._dropping, []
        for future in pending:
            future.result()
        with self._lock:
            spares, self._spares = list(self._spares.values()), {}
        for run in spares:
            _drop_run(self, run.role)

    def role_conninfo(self, role: str, password: str, dbname: str, options: str = "") -> str:
        params = conninfo_to_dict(self.admin_conninfo)
        params.update(user=role, password=password, dbname=dbname)
        if options:
            params["options"] = options
        else:
            params.pop("options", None)
        return make_conninfo("", **params)

    def _ensure_content_role(self, admin: psycopg.Connection) -> None:
        if self._content_role_ready:
            return
        exists = admin.execute(
            "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) %s", (CONTENT_ROLE,)
        ).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(_ident(CONTENT_ROLE)))
        self._content_role_ready = True

    # -- templates ---------------------------------------------------------------------------

    def template_name(self, exercise: Exercise, env: str, with_grading_data: bool = True) -> str:
        kind = "g" if with_grading_data else "s"
        return f"{PREFIX}t{kind}_{content_hash(exercise)}_{env}"

    def ensure_templates(
        self, exercise: Exercise, with_grading_data: bool = True, verify: bool = False
    ) -> dict[str, str]:
        """env -> template database name, building the missing ones (raises ContentError). With
        `verify`, templates built earlier are looked up again (the server may have lost them)."""
        names = {env: self.template_name(exercise, env, with_grading_data) for env in exercise.start.applied}
        with self._lock:
            if verify:
                self._content_role_ready = False
            missing = [env for env, name in names.items() if verify or name not in self._templates]
            if not missing:
                return names
            with self._admin() as admin:
                self._ensure_content_role(admin)
                existing = {
                    row[0]
                    for row in admin.execute(
                        "SELECT datname FROM pg_catalog.pg_database WHERE datname OPERATOR(pg_catalog.=)"
                        " ANY(%s) AND datistemplate AND NOT datallowconn",
                        ([names[e] for e in missing],),
                    )
                }
                for env in missing:
                    if names[env] not in existing:
                        self._build_template(admin, exercise, env, names[env], with_grading_data)
                    self._templates.add(names[env])
        return names

    def _build_template(
        self, admin: psycopg.Connection, exercise: Exercise, env: str, name: str, with_grading_data: bool
    ) -> None:
        """Built by the admin as CONTENT_ROLE (the content is the instructor's, trusted); then closed to
        connections for good."""
        building = f"{name}_building"
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_ident(building)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(_ident(building)))
        admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(_ident(building)))
        try:
            with self._admin(building) as conn:
                grant = sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}")
                conn.execute(grant.format(_ident(CONTENT_ROLE)))
                conn.execute(sql.SQL("SET ROLE {}").format(_ident(CONTENT_ROLE)))
                conn.execute("SET search_path = public")
                by_name = {m.name: m for m in exercise.start.migrations}
                for migration_name in exercise.start.applied[env]:
                    error = apply_migration(conn, by_name[migration_name])
                    if error:
                        raise ContentError(f"start migration {migration_name} fails in {env}: {error}")
                steps = [("seed", exercise.start.seed.get(env, ""))]
                if with_grading_data:
                    steps.append(("grading_data", exercise.grading_data.get(env, "")))
                for label, text in steps:
                    if text.strip():
                        try:
                            conn.execute(text.encode())
                        except psycopg.Error as error:
                            raise ContentError(f"{label} for {env} fails: {error}") from error
                conn.execute("RESET ROLE")
                # Owned by whoever owns the database: the admin here, each clone's role there (it is
                # pg_database_owner in its own clone), so a clone needs no ownership change at all.
                reassign = sql.SQL("REASSIGN OWNED BY {} TO pg_database_owner")
                conn.execute(reassign.format(_ident(CONTENT_ROLE)))
                conn.execute(sql.SQL("REVOKE ALL ON SCHEMA public FROM {}").format(_ident(CONTENT_ROLE)))
                conn.execute("ANALYZE")
        except BaseException:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_ident(building)))
            raise
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_ident(name)))
        admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(_ident(building), _ident(name)))
        admin.execute(
            sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(_ident(name))
        )

    # -- runs --------------------------------------------------------------------------------

    @contextmanager
    def run(self, connection_limit: int = 12, spare_for: tuple[str | None, ...] = ()) -> Iterator[Run]:
        """A throwaway role and its clones, all dropped on exit. With `spare_for` (the templates a grading
        copies), a run prepared in the background for the same templates is handed out when there is one
        (its role and copies made, no session ever opened on them), and the next one is prepared."""
        self._sweep_stale()
        run = self._take_spare(spare_for) if spare_for else None
        run = run or Run(self, connection_limit)
        try:
            yield run
        finally:
            futures = [self._dropper.submit(_drop_run, self, run.role)]
            if spare_for:
                futures.append(self._dropper.submit(self._prepare_spare, spare_for, connection_limit))
            with self._lock:
                self._dropping = [f for f in self._dropping if not f.done()] + futures

    def _take_spare(self, templates: tuple[str | None, ...]) -> Run | None:
        with self._lock:
            run = self._spares.pop(templates, None)
        if run is not None and time.time() - run.started < SPARE_MAX_AGE_S:
            return run
        if run is not None:
            self._dropper.submit(_drop_run, self, run.role)
        return None

    def _prepare_spare(self, templates: tuple[str | None, ...], connection_limit: int) -> None:
        with self._lock:
            if templates in self._spares:
                return
        run = Run(self, connection_limit)
        try:
            run.prepared = run.clone_all(list(templates))
        except psycopg.Error as error:
            log.warning("no spare grading run prepared: %s", error)
            _drop_run(self, run.role)
            return
        with self._lock:
            if templates not in self._spares:
                self._spares[templates] = run
                return
        _drop_run(self, run.role)

    def _sweep_stale(self) -> None:
        """Clones and roles of runs a crash left behind (not more than once a minute)."""
        now = time.time()
        if now - self._swept < 60:
            return
        self._swept = now
        with self._admin() as admin:
            roles = admin.execute(
                "SELECT rolname FROM pg_catalog.pg_roles WHERE pg_catalog.starts_with(rolname, %s)",
                (RUN_PREFIX,),
            ).fetchall()
        for (role,) in roles:
            try:
                started = int(role.split("_")[2])
            except (IndexError, ValueError):
                continue
            if now - started > STALE_RUN_S:
                _drop_run(self, role)

    def drop_all(self) -> None:
        """Every grading database, template and run role on the server (tests and `lessons check`)."""
        self.settle()
        with self._admin() as admin:
            rows = admin.execute(
                "SELECT datname FROM pg_catalog.pg_database WHERE pg_catalog.starts_with(datname, %s)",
                (PREFIX,),
            ).fetchall()
            for (name,) in rows:
                try:
                    admin.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(_ident(name)))
                except psycopg.errors.InvalidCatalogName:
                    continue  # dropped meanwhile (another process's background drop)
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_ident(name)))
            roles = admin.execute(
                "SELECT rolname FROM pg_catalog.pg_roles WHERE pg_catalog.starts_with(rolname, %s)",
                (RUN_PREFIX,),
            ).fetchall()
            for (role,) in roles:
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(_ident(role)))
        with self._lock:
            self._templates.clear()


class Run:
    """One grading run's role and clones. Learner SQL only ever runs in sessions logged in as `role`."""

    def __init__(self, dbs: GradingDatabases, connection_limit: int) -> None:
        self.dbs = dbs
        self.started = time.time()
        self.role = f"{RUN_PREFIX}{int(self.started)}_{secrets.token_hex(6)}"
        self.prepared: list[str] = []  # copies made ahead (a spare run), in the order asked
        self.password = secrets.token_urlsafe(24)
        self.clones: list[str] = []
        self.sealed = False
        statements = [
            sql.SQL(
                "CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
                " NOBYPASSRLS CONNECTION LIMIT {}"
            ).format(_ident(self.role), sql.Literal(self.password), sql.Literal(connection_limit)),
            *(
                sql.SQL("ALTER ROLE {} SET {} = {}").format(_ident(self.role), _ident(k), sql.Literal(v))
                for k, v in ROLE_LIMITS.items()
            ),
        ]
        with dbs.admin_session() as admin, admin.transaction():
            for statement in statements:
                admin.execute(statement)

    def clone(self, template: str | None) -> str:
        """A new database from `template` (an empty one when None), owned by this run's role, which
        thereby owns the template's objects too (they belong to pg_database_owner)."""
        name = f"{CLONE_PREFIX}{self.role.removeprefix(RUN_PREFIX)}_{len(self.clones)}"
        self.clones.append(name)
        with self.dbs.admin_session() as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    _ident(name), _ident(self.role), _ident(template or "template0")
                )
            )
            admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(_ident(name)))
        return name

    def copies_of(self, templates: list[str | None]) -> list[str]:
        """The copies prepared ahead when this is a spare run, else new ones."""
        return self.prepared if self.prepared else self.clone_all(templates)

    def clone_all(self, templates: list[str | None]) -> list[str]:
        """Several clones at once (each CREATE DATABASE on its own admin session)."""
        start = f"{CLONE_PREFIX}{self.role.removeprefix(RUN_PREFIX)}_"
        names = [f"{start}{len(self.clones) + i}" for i in range(len(templates))]
        self.clones += names

        def make(pair: tuple[str, str | None]) -> None:
            name, template = pair
            with self.dbs.admin_session() as admin:
                admin.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE {} STRATEGY FILE_COPY").format(
                        _ident(name), _ident(self.role), _ident(template or "template0")
                    )
                )
                admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(_ident(name)))

        list(self.dbs.workers.map(make, zip(names, templates, strict=True)))
        return names

    def connect_all(self, targets: list[tuple[str, bool]]) -> list[psycopg.Connection]:
        """Sessions opened at once: (database, checks) each."""
        return list(self.dbs.workers.map(lambda t: self.connect(*t), targets))

    def conninfo(self, dbname: str, options: str = "") -> str:
        return self.dbs.role_conninfo(self.role, self.password, dbname, options)

    def connect(self, dbname: str, checks: bool = False) -> psycopg.Connection:
        """A session as this run's role; `checks` gives the read-only, fixed-search-path one."""
        if self.sealed:
            raise RuntimeError("the run is sealed: open every session before running learner SQL")
        options = CHECK_OPTIONS if checks else ""
        # Never prepared on the server: learner SQL runs in these sessions (see grading._open_learner).
        return psycopg.connect(self.conninfo(dbname, options), autocommit=True, prepare_threshold=None)

    def seal(self) -> None:
        """No new login as this role from now on: learner SQL, which may change the role's password,
        runs only after this, in the sessions already open."""
        with self.dbs.admin_session() as admin:
            admin.execute(sql.SQL("ALTER ROLE {} NOLOGIN PASSWORD NULL").format(_ident(self.role)))
        self.sealed = True

    def close(self) -> None:
        _drop_run(self.dbs, self.role)


def _drop_run(dbs: GradingDatabases, role: str) -> None:
    """The run's clones (ending their sessions), then its role."""
    with dbs.admin_session() as admin:
        clones = admin.execute(
            "SELECT datname FROM pg_catalog.pg_database WHERE pg_catalog.starts_with(datname, %s)",
            (CLONE_PREFIX + role.removeprefix(RUN_PREFIX) + "_",),
        ).fetchall()
        for (name,) in clones:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_ident(name)))
        admin.execute(
            "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity"
            " WHERE usename OPERATOR(pg_catalog.=) %s",
            (role,),
        )
        try:
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(_ident(role)))
        except psycopg.Error as error:  # left for the sweep; never fails a grading
            log.warning("grading role %s not dropped: %s", role, error)
