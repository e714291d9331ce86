"""Rebuilding a saved workspace's databases after the reaper or a restart dropped them.

Each environment gets back what its saved `_prisma_migrations` rows say, and the rows its context
seeded: an exercise environment is copied from the exercise's seeded start template and only the
migrations recorded beyond the start state run on it; a playground or lesson environment replays its
migrations and gets the starter rows again right after the starter migration, the schema they were
written for. Rows a learner added went with the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from app.db.workspaces import ENVIRONMENTS, EnvMigration, SavedWorkspace
from app.panel import store
from app.panel.starter import insert_starter_rows, starter_migration
from sandbox import SandboxError, Workspace
from sandbox.migrate import ApplyError, clear_records, create_table, restore_record, run_script

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StartTemplate:
    """An environment's seeded start state as a template database; `applied` lists the (name,
    checksum) of the migrations it holds, in the order they were applied."""

    database: str
    applied: tuple[tuple[str, str], ...]


# Where a workspace's environments start: None when like the playground (the starter migration and
# rows), else env -> template (an environment without one comes back without seed rows).
StartSource = Callable[[SavedWorkspace, Workspace], "dict[str, StartTemplate] | None"]


@dataclass
class RebuildReport:
    seeded: list[str] = field(default_factory=list)  # environments whose seed rows came back
    unseeded: dict[str, str] = field(default_factory=dict)  # env -> why its seed rows did not
    broken: dict[str, list[str]] = field(default_factory=dict)  # migration -> envs where it failed again
    held_tables: bool = False  # an environment had migrated tables: the learner may have added rows

    def message(self) -> str:
        back = (
            "schema, migrations, what is applied where and the example rows are back"
            if self.seeded
            else "schema, migrations and what is applied where are back"
        )
        lines = [f"Your databases were rebuilt from your saved workspace: {back}"]
        lines[0] += "; rows you added yourself are not." if self.held_tables else "."
        by_reason: dict[str, list[str]] = {}
        for env, reason in self.unseeded.items():
            by_reason.setdefault(reason, []).append(env)
        for reason, envs in by_reason.items():
            lines.append(f"{_names(envs)} came back without the example rows: {reason}.")
        for name, envs in self.broken.items():
            lines.append(f"{name} no longer applies in {_names(envs)}; its changes are missing there.")
        return " ".join(lines)


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def rebuild(workspace: SavedWorkspace, sandbox: Workspace, start: StartSource | None = None) -> RebuildReport:
    """Bring each (empty, just rebuilt) environment back to its saved `_prisma_migrations` rows, which
    are restored as they were (applied, failed and rolled-back history unchanged), with its seed rows."""
    templates = start(workspace, sandbox) if start is not None else None
    sources = {m.name: m.sql for m in workspace.migrations}
    starter = starter_migration([m.name for m in workspace.migrations]) if templates is None else None
    report = RebuildReport()
    for env in ENVIRONMENTS:
        records = store.records_of(workspace, env)
        report.held_tables |= any(_applied(r) for r in records)
        template = templates.get(env) if templates is not None else None
        _EnvRebuild(sandbox, env, records, sources, report).run(template, starter)
    return report


class _EnvRebuild:
    def __init__(
        self, sandbox: Workspace, env: str, records: list[EnvMigration], sources: dict[str, str],
        report: RebuildReport,
    ) -> None:
        self.sandbox, self.env, self.records = sandbox, env, records
        self.sources, self.report = sources, report

    def run(self, template: StartTemplate | None, starter: str | None) -> None:
        if template is not None:
            if self._from_template(template):
                return
        elif starter is not None and any(r.migration_name == starter and _applied(r) for r in self.records):
            if self._replay(seed_after=starter):
                return
        if self.records:
            self._replay(seed_after=None)

    def _from_template(self, template: StartTemplate) -> bool:
        """Copy the start template, then run only what was recorded beyond the start state. False
        (and an empty database) when the seed rows cannot come back: the caller replays everything."""
        start = len(template.applied)
        if [(r.migration_name, r.checksum) for r in self.records[:start] if _applied(r)] != list(
            template.applied
        ):
            self.report.unseeded[self.env] = "its history no longer starts from the exercise's start state"
            return False
        try:
            self.sandbox.create_env_from_template(self.env, template.database)
        except SandboxError as exc:
            log.warning("rebuilding %s of %s: %s", self.env, self.sandbox.id, exc)
            self.report.unseeded[self.env] = "the exercise's start data is not available"
            self.sandbox.reset_env(self.env)  # the copy replaces the database: make sure one exists
            return False
        with self._connect() as conn:
            # The template's own rows give way to the saved ones.
            if not clear_records(conn) and self.records:
                create_table(conn)
            for record in self.records[:start]:
                restore_record(conn, record)
            failed = self._run(conn, self.records[start:], seeded=True)
        if failed is None:
            self.report.seeded.append(self.env)
            return True
        self.report.unseeded[self.env] = f"{failed} no longer applies over them"
        self.sandbox.reset_env(self.env)
        return False

    def _replay(self, seed_after: str | None) -> bool:
        """Every record from an empty database; with `seed_after`, the starter rows right after that
        migration. False (and an empty database) when a migration failed over those rows."""
        with self._connect() as conn:
            create_table(conn)
            failed = self._run(conn, self.records, seeded=False, seed_after=seed_after)
        if failed is None:
            return True
        self.report.seeded.remove(self.env)
        self.report.unseeded[self.env] = f"{failed} no longer applies over them"
        self.sandbox.reset_env(self.env)
        return False

    def _run(
        self,
        conn: psycopg.Connection,
        records: list[EnvMigration],
        seeded: bool,
        seed_after: str | None = None,
    ) -> str | None:
        """Run what each record ran and restore the record. Over seed rows, stop at the first migration
        that fails and return its name (it may fail because of them); without, log it and go on."""
        for record in records:
            name = record.migration_name
            if _applied(record) and record.applied_steps_count and name in self.sources:
                try:
                    run_script(conn, name, self.sources[name])
                except ApplyError:  # e.g. a migration edited after it was applied, or rows it refuses
                    if seeded:
                        return name
                    log.warning("rebuilding %s of %s: %s no longer applies", self.env, self.sandbox.id, name)
                    self.report.broken.setdefault(name, []).append(self.env)
            restore_record(conn, record)
            if name == seed_after and not seeded and _applied(record):
                seeded = self._seed(conn)
        return None

    def _seed(self, conn: psycopg.Connection) -> bool:
        reason = insert_starter_rows(conn)
        if reason is not None:
            self.report.unseeded[self.env] = f"they no longer fit the schema ({reason})"
            return False
        self.report.seeded.append(self.env)
        return True

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.sandbox.conninfo(self.env), autocommit=True)


def _applied(record: EnvMigration) -> bool:
    return record.finished_at is not None and record.rolled_back_at is None

