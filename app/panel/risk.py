"""The Risk view of one migration: each statement traced on a throwaway copy of the environment it will
be deployed to next (prod first), in words a learner reads at a glance, and which application versions
still work on the migrated copy. The copy belongs to the learner's role, so their SQL keeps its limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from sandbox import Workspace
from sandbox.migrate import ApplyError, Migration, run_script
from sandbox.risk import (
    AppQuery,
    LintError,
    SqlSyntaxError,
    StatementRisk,
    Timeline,
    TraceError,
    VersionResult,
    check_versions,
    plain_words,
    run_with_traffic,
    trace,
)

# The application the playground's starter schema runs: the Risk view shows which queries a change breaks.
PLAYGROUND_APP: dict[str, list[AppQuery]] = {
    "app": [
        AppQuery("load a user", 'SELECT "id", "email", "name" FROM "User" WHERE "id" = $1', (1,)),
        AppQuery("sign up", 'INSERT INTO "User" ("email", "name") VALUES ($1, $2)', ("new@example.io", "N")),
        AppQuery("rename", 'UPDATE "User" SET "name" = $2 WHERE "id" = $1', (1, "Ada")),
    ]
}
AppQueriesOf = Callable[[str], dict[str, list[AppQuery]]]  # panel context -> versions


@dataclass
class StatementView:
    risk: StatementRisk
    level: str  # "high" (reads blocked), "medium" (writes blocked), "low"
    summary: str  # "Blocks reads and writes on User for 1.2 s"


@dataclass
class RiskView:
    name: str
    env: str = ""
    statements: list[StatementView] = field(default_factory=list)
    versions: list[VersionResult] = field(default_factory=list)
    problem: str = ""  # why nothing (or not everything) could be traced

    @property
    def level(self) -> str:
        levels = [s.level for s in self.statements]
        return next((level for level in ("high", "medium") if level in levels), "low")


def duration_words(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms" if ms >= 1 else "under 1 ms"


def statement_view(risk: StatementRisk) -> StatementView:
    lock = risk.strongest
    if lock is None:
        return StatementView(risk, "low", "Takes no lock on an existing table")
    words = plain_words(lock.mode)
    level = "high" if "reads and writes" in words else "medium" if "writes" in words else "low"
    table = lock.relation
    if level == "high":
        summary = f"Blocks reads and writes on {table} for {duration_words(risk.duration_ms)}"
    elif level == "medium":
        summary = f"Blocks writes on {table} for {duration_words(risk.duration_ms)} (reads go on)"
    else:
        summary = f"Reads and writes on {table} go on (blocks only schema changes and maintenance)"
    if risk.rewrites:
        summary += f"; rewrites {', '.join(risk.rewrites)} (every row copied)"
    return StatementView(risk, level, summary)


def target_env(states: dict[str, str]) -> str | None:
    """The environment the migration reaches next where it matters most: prod, else staging."""
    return next((env for env in ("prod", "staging") if states.get(env) != "applied"), None)


def build(
    sandbox: Workspace,
    history: list[Migration],
    states: dict[str, dict[str, str]],  # migration name -> env -> state
    name: str,
    app_queries: dict[str, list[AppQuery]],
) -> RiskView:
    view = RiskView(name)
    env = target_env(states.get(name, {}))
    if env is None:
        view.problem = "Already applied to staging and prod: the risk is shown before a deploy."
        return view
    view.env = env
    index = next(i for i, m in enumerate(history) if m.name == name)
    before = [m for m in history[:index] if states.get(m.name, {}).get(env) != "applied"]
    with sandbox.scratch_copy(env) as conninfo, psycopg.connect(conninfo, autocommit=True) as conn:
        for migration in before:  # what deploying to env would run first
            try:
                run_script(conn, migration.name, migration.sql)  # as migrate deploy sends it
            except ApplyError as error:
                reason = error.database_error.split("\n", 1)[0]
                view.problem = f"{migration.name}, deployed first, fails on a copy of {env}: {reason}"
                return view
        try:
            report = trace(history[index].sql, conn)
        except SqlSyntaxError as error:
            view.problem = f"migration.sql does not parse: {error}"
            return view
        except (LintError, TraceError) as error:
            view.problem = str(error)
            return view
        view.statements = [statement_view(s) for s in report.statements]
        if report.failed is None and app_queries:
            view.versions = check_versions(conn, app_queries)
    return view



LONG_TRANSACTION_MS = 2000  # the "long report" a learner may leave open during a deploy
TRAFFIC_SESSIONS = 3


def deploy_under_traffic(
    conninfo: str,
    queries: list[AppQuery],
    deploy: Callable[[], tuple[str, bool]],
    long_transaction_ms: int,
    before: Callable[[], None],
) -> tuple[str, bool, Timeline | None]:
    """Run `deploy` (the panel's: notice and success) while the app's queries run on prod from a few of
    the learner's sessions. `before` (the backup, which ends prod's sessions) runs first. A deploy is not
    retried: a failure on `lock_timeout` is shown as it happened, fast."""
    before()
    outcome = ("", False)

    def run() -> str:
        nonlocal outcome
        outcome = deploy()
        return "" if outcome[1] else outcome[0]

    conns: list[psycopg.Connection] = []
    try:
        try:
            conns = [psycopg.connect(conninfo, autocommit=True) for _ in range(TRAFFIC_SESSIONS + 1)]
        except psycopg.OperationalError as error:
            notice, ok = deploy()
            return f"{notice} (Live traffic could not start: {error}.)", ok, None
        holder, *sessions = conns
        timeline = run_with_traffic(
            sessions, queries, run, long_transaction=holder, long_transaction_ms=long_transaction_ms,
            retries=0,
        )
    finally:
        for conn in conns:
            conn.close()
    return outcome[0], outcome[1], timeline
