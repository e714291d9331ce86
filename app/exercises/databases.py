"""Hidden grading databases: one seeded template per exercise and environment, cloned per grading.

Everything a learner wrote runs as an unprivileged role that owns only these databases; the templates
are built once (their name carries a hash of the content, so an edited exercise gets new ones) and each
grading clones them with `CREATE DATABASE … TEMPLATE`, which takes milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import uuid
from collections.abc import Iterable
from dataclasses import asdict

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from app.exercises.history import apply_migration
from app.exercises.model import Exercise

ROLE = "ml_grader"
PREFIX = "mlg_"
ROLE_LIMITS = {
    "statement_timeout": "10s",
    "lock_timeout": "5s",
    "idle_in_transaction_session_timeout": "30s",
    "temp_file_limit": "256MB",
}


class ContentError(Exception):
    """The exercise's own start state, seed or grading data does not run: the author must fix it."""


def content_hash(exercise: Exercise) -> str:
    state = {
        "start": asdict(exercise.start),
        "grading_data": exercise.grading_data,
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:12]


class GradingDatabases:
    """Templates and clones on one PostgreSQL server reached with a superuser `admin_conninfo`."""

    def __init__(self, admin_conninfo: str) -> None:
        self.admin_conninfo = admin_conninfo
        self._password = secrets.token_urlsafe(18)
        self._lock = threading.Lock()
        self._templates: set[str] = set()
        self._role_ready = False

    # -- connections -------------------------------------------------------------------------

    def conninfo(self, dbname: str) -> str:
        """The unprivileged role's connection string to `dbname`."""
        params = conninfo_to_dict(self.admin_conninfo)
        params.update(user=ROLE, password=self._password, dbname=dbname)
        return make_conninfo("", **params)

    def connect(self, dbname: str) -> psycopg.Connection:
        return psycopg.connect(self.conninfo(dbname), autocommit=True)

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(self.admin_conninfo, autocommit=True)

    def _ensure_role(self, admin: psycopg.Connection) -> None:
        if self._role_ready:
            return
        exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        admin.execute(
            f"{verb} ROLE {ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
            f"CONNECTION LIMIT 64 PASSWORD '{self._password}'"
        )
        for name, value in ROLE_LIMITS.items():
            admin.execute(f"ALTER ROLE {ROLE} SET {name} = '{value}'")
        self._role_ready = True

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
                self._role_ready = False
            missing = [env for env, name in names.items() if verify or name not in self._templates]
            if not missing:
                return names
            with self._admin() as admin:
                self._ensure_role(admin)
                existing = {
                    row[0]
                    for row in admin.execute(
                        "SELECT datname FROM pg_database WHERE datname = ANY(%s) AND datistemplate",
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
        building = f"{name}_building"
        admin.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{building}" OWNER {ROLE} TEMPLATE template0')
        try:
            with self.connect(building) as conn:
                by_name = {m.name: m for m in exercise.start.migrations}
                for migration_name in exercise.start.applied[env]:
                    error = apply_migration(conn, by_name[migration_name])
                    if error:
                        raise ContentError(f"start migration {migration_name} fails in {env}: {error}")
                steps = [("seed", exercise.start.seed.get(env, ""))]
                if with_grading_data:
                    steps.append(("grading_data", exercise.grading_data.get(env, "")))
                for label, sql in steps:
                    if sql.strip():
                        try:
                            conn.execute(sql)
                        except psycopg.Error as error:
                            raise ContentError(f"{label} for {env} fails: {error}") from error
                conn.execute("ANALYZE")
        except BaseException:
            admin.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
            raise
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        admin.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS true')

    # -- clones ------------------------------------------------------------------------------

    def clone(self, template: str | None) -> str:
        """A new database from `template` (an empty one when None), owned by the grading role."""
        name = f"{PREFIX}c_{uuid.uuid4().hex[:16]}"
        with self._admin() as admin:
            self._ensure_role(admin)
            source = f'"{template}"' if template else "template0"
            admin.execute(f'CREATE DATABASE "{name}" OWNER {ROLE} TEMPLATE {source}')
            admin.execute(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{name}" FROM PUBLIC')
        return name

    def drop(self, names: Iterable[str]) -> None:
        with self._admin() as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_all(self) -> None:
        """Every grading database and template on the server (tests and `lessons check` clean up)."""
        with self._admin() as admin:
            rows = admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX.replace("_", r"\_") + "%",)
            ).fetchall()
            for (name,) in rows:
                admin.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with self._lock:
            self._templates.clear()
