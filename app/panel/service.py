"""The panel's actions on one learner's workspace, each run under the workspace's lock.

Every action: find (or create) the saved workspace, make sure its databases exist (rebuilding them
from the saved state when they were reaped or lost in a restart), act through the migration engine,
mirror what each environment applied back into the saved state, and return what the panel shows.
Learner mistakes come back as outcomes, never as exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from sqlalchemy.orm import Session

from app.db import StateDB
from app.db.workspaces import SavedWorkspace
from app.errors import AppError
from app.panel import environments, readings, risk, store
from app.panel.active import Active
from app.panel.command_runner import run_command
from app.panel.db_errors import LearnerDatabaseError, SandboxRestarted, learner_caused
from app.panel.drift import remember_in_sync
from app.panel.locks import WorkspaceLocks
from app.panel.outcomes import migration_outcome, schema_problems
from app.panel.seed import seed_database
from app.panel.sql_console import run_sql as run_console_sql
from app.panel.starter import (
    STARTER_SCHEMA,
    StartFailed,
    apply_start,
    prepared_envs,
    prepared_migration,
)
from app.panel.views import MigrationOutcome, PanelView, SqlError, SqlOutcome, TerminalOutcome
from sandbox import ENVIRONMENTS, QuotaExceeded, SandboxError, SandboxFull, SandboxManager
from sandbox.migrate import (
    MemoryHistory,
    has_table,
    migrate_deploy,
    migrate_dev,
    migrate_reset,
    migrate_resolve,
    migrate_status,
    slugify,
)


@dataclass(frozen=True)
class PanelLimits:
    max_schema_bytes: int = 64 * 1024
    max_sql_bytes: int = 64 * 1024
    workspaces_per_learner: int = 20
    max_result_rows: int = 200
    max_result_bytes: int = 1_000_000


class PanelService:
    def __init__(
        self,
        state: StateDB,
        sandboxes: SandboxManager,
        limits: PanelLimits | None = None,
        start_source: environments.StartSource | None = None,
        app_queries: risk.AppQueriesOf | None = None,
        admit: Callable[[str, str], None] | None = None,
    ) -> None:
        self.state = state
        self.sandboxes = sandboxes
        self.limits = limits or PanelLimits()
        self.locks = WorkspaceLocks(state.engine)
        # Where a rebuilt workspace's seed rows come from when not the starter's (the exercises' starts).
        self.start_source = start_source
        # The application versions' queries of a context, for the Risk view (the exercises declare them).
        self.app_queries = app_queries
        # Checked before a new workspace is written (the page has a sandbox, room, the rate limit).
        self.admit = admit

    # -- holding a workspace -----------------------------------------------------------------------

    def _find_or_create(self, session: Session, learner_id: str, context: str) -> SavedWorkspace:
        """Under the workspace's lock, so no other tab creates the same workspace meanwhile."""
        row = store.find_workspace(session, learner_id, context)
        if row is not None:
            store.note_seen(session, learner_id)
            return row
        if self.admit is not None:
            self.admit(learner_id, context)
        limit = self.limits.workspaces_per_learner
        try:
            row = store.create_workspace(session, learner_id, context, STARTER_SCHEMA, limit)
        except store.WorkspaceLimitReached as exc:
            raise AppError(429, "Too many sandboxes", str(exc)) from exc
        session.commit()
        return row

    @contextmanager
    def hold_session(self, learner_id: str, context: str) -> Iterator[Session]:
        """A session on the connection that holds the workspace's lock: one connection per action, so
        an action never waits for a second connection from the pool while holding the lock."""
        with self.locks.hold(learner_id, context) as conn:
            with Session(bind=conn, expire_on_commit=False) as session:
                yield session

    @contextmanager
    def _hold(self, learner_id: str, context: str) -> Iterator[Active]:
        """The workspace under its lock. Saved state is committed as soon as it is written (a new
        migration, the mirrored records), not at the end: the workspace lock already keeps two actions
        on one workspace apart, and with SQLite a write transaction left open across the PostgreSQL
        work would hold the one write lock and queue every other learner's writes behind it (up to
        "database is locked" under load). What a failed action wrote before failing stays, as its
        effect on the databases does."""
        with self.hold_session(learner_id, context) as session:
            row = self._find_or_create(session, learner_id, context)
            active = self._open(session, row)
            try:
                yield active
            except psycopg.Error as exc:
                if learner_caused(exc):
                    raise LearnerDatabaseError(exc) from exc
                raise self._sandbox_lost() from exc
            session.commit()

    def _sandbox_lost(self) -> SandboxRestarted:
        """After a failed connection: restart the server when it died, and say what happened."""
        before = self.sandboxes.restarts
        up = self.sandboxes.recover()
        return SandboxRestarted(up, restarted=self.sandboxes.restarts > before)

    def _open(self, session: Session, row: SavedWorkspace) -> Active:
        """The workspace's databases; when the server is gone, it is restarted (when this process owns
        it) and the workspace rebuilt, within this same request."""
        if not self.sandboxes.alive():
            self.sandboxes.recover()
        try:
            return self._open_once(session, row)
        except SandboxFull as exc:
            raise AppError(503, "No room for a new sandbox", str(exc)) from exc
        except (psycopg.OperationalError, SandboxError) as exc:
            lost = self._sandbox_lost()
            if not lost.up:
                raise lost from exc
        try:
            return self._open_once(session, row)  # once more, on the restarted (or reconnected) server
        except (psycopg.OperationalError, SandboxError) as exc:
            raise AppError(503, "The sandbox is not available", str(exc).strip()) from exc

    def _open_once(self, session: Session, row: SavedWorkspace) -> Active:
        if row.sandbox_id is None:
            sandbox = self.sandboxes.create_workspace()
            # Loaded before the assignment, so that no autoflush writes it (and takes the SQLite
            # write lock) during the starter's work: it is committed with the starter migration.
            history = self._history(session, row)
            row.sandbox_id = sandbox.id
            active = Active(session, row, sandbox, history)
            self._start(active)
            return active
        sandbox, rebuilt = self.sandboxes.ensure_workspace(row.sandbox_id)
        note = environments.rebuild(row, sandbox, self.start_source).message() if rebuilt else ""
        return Active(session, row, sandbox, self._history(session, row), rebuilt=rebuilt, rebuild_note=note)

    def _history(self, session: Session, row: SavedWorkspace) -> MemoryHistory:
        def persist(migration) -> None:
            store.append_migration(row, migration)
            session.commit()  # before the migration is applied (see _hold)

        return MemoryHistory(store.history_of(row), on_add=persist)

    def _start(self, active: Active) -> None:
        """A new workspace: the starter schema migrated in every environment, with a few rows. Done by
        the warm pool before the learner came (`Workspace.prepared`, which also says what each
        environment then held: the first view reads no database), else now, on the kept sessions
        (sandbox.warm) that the first view reads through next: a class arriving at once otherwise opened
        ten new PostgreSQL backends per first visit."""
        sandbox = active.sandbox
        prepared = prepared_migration(sandbox.prepared)
        if prepared is not None and active.row.schema_text == STARTER_SCHEMA:
            active.history.add(prepared)  # saved: the pool applied it everywhere
            envs = prepared_envs(sandbox.prepared)
            if envs is not None:
                row, history = active.row, active.history.list()
                if environments.adopt_prepared(active.session, row, sandbox, history, envs):
                    return
        else:
            try:
                apply_start(active.history, active.row.schema_text, sandbox.reading)
            except StartFailed as exc:
                raise AppError(500, "The starter workspace failed", str(exc)) from exc
        # Each environment was just built from empty by the history: the first view need not look for
        # drift (see remember_in_sync).
        schemas = environments.datasource_schemas(active.row.schema_text)
        for env in ENVIRONMENTS:
            with sandbox.reading(env) as conn:
                remember_in_sync(conn, active.history.list(), schemas)

    def _view(self, active: Active, **extra) -> PanelView:
        row = active.row
        history = active.history.list()
        snapshots = environments.sync(active.session, row, active.sandbox, history)
        active.session.commit()  # the mirrored records; the rest of the view only reads (see _hold)
        view = PanelView(
            context=row.context,
            schema_text=row.schema_text,
            history=environments.history_rows(row),
            envs=environments.env_cards(row, active.sandbox, history, snapshots),
            rebuilt=active.rebuilt,
            rebuild_note=active.rebuild_note,
            **extra,
        )
        view.draft = self._draft(view, active)
        return view

    @staticmethod
    def _draft(view: PanelView, active: Active) -> MigrationOutcome | None:
        """The newest migration, when it is applied nowhere and never reached staging or prod: the one
        Create only made, which can still be edited and applied."""
        if not view.history:
            return None
        last = view.history[-1]
        if last.states.get("dev") not in ("pending", "failed", "rolled back"):
            return None
        if last.states.get("staging") != "pending" or last.states.get("prod") != "pending":
            return None
        migration = next((m for m in active.history.list() if m.name == last.name), None)
        if migration is None:
            return None
        dev = view.env("dev")
        if last.states.get("dev") == "failed" and dev.failure is not None:
            return MigrationOutcome(
                kind="failed",
                name=migration.name,
                sql=migration.sql,
                message=f"{migration.name} failed in dev. Edit migration.sql and press Apply again, or "
                "Discard the migration.",
                failure=dev.failure,
                editable=True,
            )
        return MigrationOutcome(kind="draft", name=migration.name, sql=migration.sql)

    # -- reading -----------------------------------------------------------------------------------

    def panel(self, learner_id: str, context: str) -> PanelView:
        with self._hold(learner_id, context) as active:
            return self._view(active)

    def migration_sql(self, learner_id: str, context: str, name: str) -> str | None:
        with self.state.session() as session:
            row = store.find_workspace(session, learner_id, context)
            found = next((m for m in row.migrations if m.name == name), None) if row else None
            return found.sql if found else None

    def risk(self, learner_id: str, context: str, name: str) -> tuple[PanelView, risk.RiskView]:
        """The Risk view of one migration, traced on a copy of the environment it reaches next."""
        with self._hold(learner_id, context) as active:
            view = self._view(active)
            states: dict[str, dict[str, str]] = {row.name: dict(row.states) for row in view.history}
            history = active.history.list()
            if name not in states or all(m.name != name for m in history):
                raise AppError(404, "No such migration", f"This workspace has no migration named {name!r}.")
            apps = self.app_queries(context) if self.app_queries else {}
            if not apps and context == "playground":
                apps = risk.PLAYGROUND_APP
            return view, risk.build(active.sandbox, history, states, name, apps)

    # -- actions -----------------------------------------------------------------------------------

    def create_migration(
        self, learner_id: str, context: str, schema: str, name: str, create_only: bool, accept_data_loss: bool
    ) -> tuple[PanelView, MigrationOutcome]:
        with self._hold(learner_id, context) as active:
            size = len(schema.encode())
            if size > self.limits.max_schema_bytes:
                return self._view(active), MigrationOutcome(
                    kind="refused",
                    message=f"schema.prisma is {size // 1024} KiB; the sandbox takes at most "
                    f"{self.limits.max_schema_bytes // 1024} KiB. Nothing was saved.",
                )
            active.row.schema_text = schema
            if over := self._over_quota(active):
                return self._view(active), MigrationOutcome(kind="refused", message=over)
            problems = schema_problems(schema)
            if problems:
                return self._view(active, schema_problems=problems), MigrationOutcome(kind="schema_errors")
            if not slugify(name):
                return self._view(active), MigrationOutcome(
                    kind="refused",
                    message="Give the migration a name in Migration name (for example add_email): it "
                    "becomes the folder name <timestamp>_add_email.",
                )
            sandbox = active.sandbox
            known = environments.known_schemas(sandbox, "dev", active.row)  # before the loan touches dev
            with sandbox.reading("dev") as dev:
                result = migrate_dev(
                    active.history,
                    dev,
                    None,
                    schema,
                    name=name,
                    create_only=create_only,
                    accept_data_loss=accept_data_loss,
                    known=known,
                )
            return self._view(active), migration_outcome(result, create_only)

    def apply_draft(
        self, learner_id: str, context: str, name: str, sql: str
    ) -> tuple[PanelView, MigrationOutcome]:
        with self._hold(learner_id, context) as active:
            if over := self._over_quota(active):
                return self._view(active), MigrationOutcome(kind="refused", name=name, sql=sql, message=over)
            draft = self._draft(self._view(active), active)
            if draft is None or draft.name != name:
                return self._view(active), MigrationOutcome(
                    kind="refused",
                    message=f"{name} is not waiting to be applied: only the newest migration, before it "
                    "reaches staging or prod, can be edited here.",
                )
            if len(sql.encode()) > self.limits.max_sql_bytes:
                return self._view(active), MigrationOutcome(
                    kind="refused",
                    name=name,
                    sql=sql,
                    message=f"migration.sql is larger than {self.limits.max_sql_bytes // 1024} KiB.",
                )
            sandbox = active.sandbox
            if sql and sql != draft.sql:
                store.edit_migration(active.row, name, sql)
                active.history = self._history(active.session, active.row)
            dev_state = environments.history_rows(active.row)[-1].states.get("dev")
            if dev_state == "failed":  # a first try failed: mark it rolled back so the edit can run
                migrate_resolve(active.history, sandbox.conninfo("dev"), rolled_back=name)
            result = migrate_deploy(active.history, sandbox.conninfo("dev"))
            if result.exit_code != 0:
                outcome = MigrationOutcome(
                    kind="failed",
                    name=name,
                    sql=sql or draft.sql,
                    message=f"{name} failed in dev. Edit migration.sql and press Apply again, or Discard "
                    "the migration.",
                    output=result.output,
                    failure=result.failure,
                    editable=True,
                )
                view = self._view(active)
                return view, outcome
            outcome = MigrationOutcome(
                kind="created",
                name=name,
                sql=sql or draft.sql,
                message=f"Applied {name} to dev.",
                output=result.output,
            )
            return self._view(active), outcome

    def discard_draft(self, learner_id: str, context: str, name: str) -> tuple[PanelView, MigrationOutcome]:
        """Delete the newest migration while it is applied nowhere: its file, and dev's record of a failed
        try (statements of it that did run stay, and the dev card then shows them as drift)."""
        with self._hold(learner_id, context) as active:
            draft = self._draft(self._view(active), active)
            if draft is None or draft.name != name:
                return self._view(active), MigrationOutcome(
                    kind="refused", message=f"{name} cannot be discarded: it is not a draft waiting in dev."
                )
            with psycopg.connect(active.sandbox.conninfo("dev"), autocommit=True) as conn:
                if has_table(conn):
                    conn.execute('DELETE FROM "_prisma_migrations" WHERE migration_name = %s', (name,))
            store.remove_migration(active.session, active.row, name)
            active.session.commit()
            active.history = self._history(active.session, active.row)
            return self._view(active), MigrationOutcome(kind="nothing", message=f"Discarded {name}.")

    def resolve(self, learner_id: str, context: str, env: str, name: str, applied: bool) -> PanelView:
        """`migrate resolve --applied|--rolled-back name` on one environment, from its card's buttons."""
        with self._hold(learner_id, context) as active:
            how = {"applied": name} if applied else {"rolled_back": name}
            result = migrate_resolve(active.history, active.sandbox.conninfo(env), **how)
            view = self._view(active)
            card = view.env(env)
            card.notice_ok = result.exit_code == 0
            card.notice = result.output.strip()
            return view

    def deploy(
        self, learner_id: str, context: str, env: str, traffic: bool = False, long_transaction: bool = False
    ) -> PanelView:
        """Deploy to `env`; to prod optionally under live traffic (the context's application queries from
        a few sessions, and a long report transaction open if asked), whose timeline the card shows."""
        with self._hold(learner_id, context) as active:
            timeline = None
            over = self._over_quota(active)
            if over:
                notice, ok = over, False
            elif traffic and env == "prod":
                queries = self._traffic_queries(context)
                notice, ok, timeline = risk.deploy_under_traffic(
                    active.sandbox.conninfo("prod"),
                    queries,
                    lambda: self._deploy(active, env, backup=False),
                    long_transaction_ms=risk.LONG_TRANSACTION_MS if long_transaction else 0,
                    before=lambda: self._backup_before_deploy(active),
                )
            else:
                notice, ok = self._deploy(active, env)
            view = self._view(active)
            card = view.env(env)
            card.notice, card.notice_ok, card.traffic = notice, ok, timeline
            return view

    def _traffic_queries(self, context: str) -> list:
        apps = self.app_queries(context) if self.app_queries else {}
        return next(iter(apps.values()), None) or risk.PLAYGROUND_APP["app"]

    def _deploy(self, active: Active, env: str, backup: bool = True) -> tuple[str, bool]:
        sandbox = active.sandbox
        if env == "prod" and backup:
            self._backup_before_deploy(active)
        with sandbox.reading(env) as conn:
            result = migrate_deploy(active.history, conn)
        if (found := result.failure) is not None:
            return (
                f"Deploy failed ({found.code}): {found.summary} What went wrong and the ways out are below.",
                False,
            )
        if result.applied:
            return (
                f"Applied {', '.join(result.applied)}. All migrations have been successfully applied.",
                True,
            )
        return "No pending migrations to apply.", True

    def _backup_before_deploy(self, active: Active) -> None:
        status = migrate_status(active.history, active.sandbox.conninfo("prod"))
        if not status.pending:
            return
        applied = [
            r.migration_name for r in store.records_of(active.row, "prod") if r.finished_at is not None
        ]
        number = len([b for b in active.row.backups if b.env == "prod"]) + 1
        snapshot = active.sandbox.clone_env("prod", f"prod{number}")
        label = f"Before deploying {', '.join(status.pending)}"
        store.add_backup(active.row, "prod", label[:250], snapshot.rsplit("_", 1)[-1], applied)

    def reset_dev(self, learner_id: str, context: str, confirm: bool) -> PanelView:
        with self._hold(learner_id, context) as active:
            if not confirm:
                view = self._view(active)
                view.env("dev").confirm_reset = True
                return view
            result = migrate_reset(active.history, active.sandbox.conninfo("dev"), force=True)
            seeded = ""
            if result.exit_code == 0:  # as `prisma migrate reset` does, the seed runs after the migrations
                seeded = seed_database(active.sandbox.conninfo("dev")).strip().splitlines()[-1]
            view = self._view(active)
            card = view.env("dev")
            card.notice_ok = result.exit_code == 0
            card.notice = f"Database reset successful. {seeded}" if card.notice_ok else result.output.strip()
            return view

    def restore(self, learner_id: str, context: str, backup_id: int, confirm: bool = True) -> PanelView:
        with self._hold(learner_id, context) as active:
            backup = next((b for b in active.row.backups if b.id == backup_id), None)
            if backup is None:
                view = self._view(active)
                view.env("prod").notice, view.env("prod").notice_ok = "There is no such backup.", False
                return view
            if not confirm:
                view = self._view(active)
                view.env("prod").confirm_restore = backup_id
                return view
            notice = self._restore(active, backup)
            view = self._view(active)
            view.env("prod").notice = notice
            return view

    def _restore(self, active: Active, backup) -> str:
        sandbox = active.sandbox
        taken = backup.taken_at.strftime("%H:%M:%S")
        try:
            sandbox.restore_env("prod", backup.snapshot)
            return f"prod restored from the backup taken at {taken} UTC ({backup.label.lower()})."
        except SandboxError:
            # The backup's database went with a rebuild: rebuild prod's schema from what it held.
            sandbox.reset_env("prod")
            kept = MemoryHistory([m for m in active.history.list() if m.name in store.backup_applied(backup)])
            migrate_deploy(kept, sandbox.conninfo("prod"))
            return (
                f"prod rebuilt as it was at {taken} UTC (its schema and migrations; the rows of that "
                "backup were lost when the databases were rebuilt)."
            )

    def run_sql(self, learner_id: str, context: str, env: str, sql: str) -> tuple[PanelView, SqlOutcome]:
        with self._hold(learner_id, context) as active:
            size = len(sql.encode())
            if size > self.limits.max_sql_bytes:
                outcome = SqlOutcome(
                    env=env,
                    sql=sql[:2000],
                    error=SqlError(
                        f"The SQL is {size // 1024} KiB; the console runs at most "
                        f"{self.limits.max_sql_bytes // 1024} KiB at once."
                    ),
                )
            elif not sql.strip():
                outcome = SqlOutcome(env=env, sql=sql, error=SqlError("Type a SQL statement to run."))
            elif over := self._over_quota(active):
                outcome = SqlOutcome(env=env, sql=sql, error=SqlError(over))
            else:
                outcome = run_console_sql(
                    active.sandbox.reading(env),
                    env,
                    sql,
                    self.limits.max_result_rows,
                    self.limits.max_result_bytes,
                )
                stopped = outcome.error and outcome.error.sqlstate == "57014"
                if stopped and active.sandbox.id in self.sandboxes.over_quota:  # the watchdog cancelled it
                    quota = self.sandboxes.settings.workspace_quota_mb
                    outcome.error = SqlError(
                        f"The query was stopped: it took this sandbox past its limit of {quota} MiB of data "
                        "(MIGRATION_LAB_WORKSPACE_QUOTA_MB), so nothing it wrote was kept."
                    )
            return self._view(active), outcome

    def _over_quota(self, active: Active) -> str:
        """The quota message when the workspace holds more data than its quota, else ''."""
        known = readings.SavedReadings(active.row).sizes(active.sandbox)
        try:
            self.sandboxes.check_quota(active.sandbox.id, active.sandbox.server, known)
        except QuotaExceeded as exc:
            return str(exc)
        return ""

    def terminal(
        self, learner_id: str, context: str, command: str, database_url: str, schema: str | None
    ) -> tuple[PanelView, TerminalOutcome]:
        with self._hold(learner_id, context) as active:
            limit = self.limits.max_schema_bytes
            outcome = run_command(active, command, database_url, schema, limit, self._backup_before_deploy)
            return self._view(active), outcome

    def import_project(self, learner_id: str, context: str, schema: str, migrations: list) -> PanelView:
        """Replace the workspace by an imported Prisma project: its schema and history saved, every
        environment emptied (backups dropped), and the migrations applied to dev as `migrate dev` would."""
        with self._hold(learner_id, context) as active:
            row, sandbox = active.row, active.sandbox
            for backup in row.backups:
                sandbox.drop_backup(backup.snapshot)
            row.backups.clear()
            row.migrations.clear()
            row.env_records.clear()
            row.schema_text = schema
            active.session.flush()
            for migration in migrations:
                store.add_migration(active.session, row, migration)
            active.session.commit()
            active.session.refresh(row)
            for env in ENVIRONMENTS:
                sandbox.reset_env(env)
            active.history = self._history(active.session, row)
            result = migrate_deploy(active.history, sandbox.conninfo("dev"))
            view = self._view(active)
            card = view.env("dev")
            card.notice_ok = result.exit_code == 0
            count = len(migrations)
            card.notice = (
                f"Imported {count} migration{'s' if count != 1 else ''}; applied to dev. Staging and prod "
                "start empty: deploy to them when you are ready."
                if card.notice_ok
                else result.output.strip()
            )
            return view
