"""Check kinds about a migration's risk: the locks it takes, the tables it rewrites, squawk's findings,
the application versions it breaks and the traffic it stalls (sandbox/risk does the observing).

They run on fresh copies of the grading databases' start state (`GradingContext.fresh_sessions`): the
new migrations are traced or deployed there the way the replay deploys them, so what is measured is what
the learner's migrations do to the exercise's data, never to the learner's own databases.
"""

from __future__ import annotations

import psycopg
from psycopg.pq import TransactionStatus

from app.exercises import history as hist
from app.exercises.checks_history import _selected, short_name
from app.exercises.context import CheckFailed, GradingContext
from app.exercises.model import Migration
from sandbox.migrate import split_statements
from sandbox.risk import (
    MODES,
    RANK,
    AppQuery,
    LintError,
    RiskReport,
    SqlSyntaxError,
    check_versions,
    lint,
    pg_error,
    plain_words,
    run_with_traffic,
    trace,
)

RISK_KINDS = ("max_lock", "no_rewrite", "lint_clean", "app_queries", "max_stall_ms")
TRAFFIC_SESSIONS = 3


class FreshCopies:
    """Copies of the grading templates made on demand for the risk checks, closed and dropped at the end."""

    def __init__(self, dbs, templates: dict[str, str]) -> None:  # dbs: GradingDatabases
        self._dbs, self._templates = dbs, templates
        self._runs: list = []
        self._conns: list[psycopg.Connection] = []

    def sessions(self, env: str, count: int) -> list[psycopg.Connection]:
        """Each copy is a grading run of its own (throwaway role, sealed once its sessions are open)."""
        from app.exercises.databases import Run

        if env not in self._templates:
            raise CheckFailed(f"the exercise has no {env} environment")
        run = Run(self._dbs, connection_limit=count + 2)
        self._runs.append(run)
        name = run.clone(self._templates[env])
        conns = [run.connect(name) for _ in range(count)]
        self._conns += conns
        run.seal()
        return conns

    def close(self) -> None:
        for conn in self._conns:
            conn.close()
        for run in self._runs:
            run.close()


def _env(ctx: GradingContext, p: dict) -> str:
    envs = list(ctx.exercise.start.applied)
    return p.get("env") or ("prod" if "prod" in envs else envs[-1])


def _sessions(ctx: GradingContext, env: str, count: int) -> list[psycopg.Connection]:
    if ctx.fresh_sessions is None:
        raise RuntimeError("grading made no fresh copies for the risk checks")
    return ctx.fresh_sessions(env, count)


def _pending(ctx: GradingContext, env: str) -> list[Migration]:
    """The migrations the replay deploys to `env`: the history beyond what the env had at the start."""
    already = set(ctx.exercise.start.applied.get(env, []))
    return [m for m in ctx.history if m.name not in already]


def _need_selected(ctx: GradingContext, p: dict) -> list[Migration]:
    selected = _selected(ctx, p.get("migration", "new"))
    if not selected:
        raise CheckFailed("there is no migration to look at yet")
    return selected


def _traces(ctx: GradingContext, p: dict) -> list[tuple[Migration, RiskReport]]:
    """Every selected migration traced, in history order, on a fresh copy of the env's start state
    (shared by the checks of one grading)."""
    env = _env(ctx, p)
    selected = {m.name for m in _need_selected(ctx, p)}
    key = f"trace:{env}:{sorted(selected)}"
    if key not in ctx.cache:
        [conn] = _sessions(ctx, env, 1)
        traced: list[tuple[Migration, RiskReport]] = []
        for migration in _pending(ctx, env):
            if migration.name not in selected:
                if error := hist.apply_migration(conn, migration):
                    raise CheckFailed(f"{migration.name} fails on grading:{env}: {error}")
                continue
            try:
                report = trace(migration.sql, conn, with_lint=False)
            except SqlSyntaxError as error:
                raise CheckFailed(f"{short_name(migration.name)} is not valid SQL: {error}") from None
            traced.append((migration, report))
            if failed := report.failed:
                raise CheckFailed(
                    f"{short_name(migration.name)} fails on grading:{env} at statement {failed.index} "
                    f"(line {failed.line}): {failed.error}"
                )
        ctx.cache[key] = traced
    return ctx.cache[key]


def _where(migration: Migration, index: int, line: int) -> str:
    return f"statement {index} of {short_name(migration.name)} (line {line})"


def max_lock(ctx: GradingContext, p: dict) -> None:
    table, limit = p["table"], p["mode"]
    worst: tuple[str, str] | None = None
    for migration, report in _traces(ctx, p):
        for statement in report.statements:
            for lock in statement.locks:
                if lock.relation == table and RANK[lock.mode] > RANK[limit]:
                    if worst is None or RANK[lock.mode] > RANK[worst[0]]:
                        worst = (lock.mode, _where(migration, statement.index, statement.line))
    if worst:
        mode, where = worst
        raise CheckFailed(
            f"{where} takes {mode} on \"{table}\" ({plain_words(mode)}); at most {limit} "
            f"({plain_words(limit)}) was expected"
        )


def no_rewrite(ctx: GradingContext, p: dict) -> None:
    tables = p.get("tables")
    for migration, report in _traces(ctx, p):
        for statement in report.statements:
            hit = ", ".join(f'"{t}"' for t in statement.rewrites if tables is None or t in tables)
            if hit:
                raise CheckFailed(
                    f"{_where(migration, statement.index, statement.line)} rewrites {hit}: "
                    "every row is copied while the table is locked"
                )


def lint_clean(ctx: GradingContext, p: dict) -> None:
    rules = set(p["rules"])
    for migration in _need_selected(ctx, p):
        try:
            # Prisma 7 sends a file statement by statement, outside any transaction: squawk's default.
            findings = lint(migration.sql)
        except LintError as error:
            raise RuntimeError(str(error)) from None
        for finding in findings:
            if finding.rule in rules:
                line = migration.sql[: finding.offset].count("\n") + 1
                advice = f" {finding.help}" if finding.help else ""
                raise CheckFailed(
                    f"squawk's {finding.rule} on line {line} of {short_name(migration.name)}: "
                    f"{finding.message}{advice}"
                )


def _version(ctx: GradingContext, p: dict) -> tuple[str, list[AppQuery]]:
    versions = ctx.exercise.app_queries
    name = p.get("version") or next(iter(versions), "")
    if name not in versions:
        raise RuntimeError(f"the exercise declares no app_queries version `{name}`")
    return name, versions[name]


def _grading_envs(ctx: GradingContext, target: str | list[str] | None) -> list[str]:
    names = [target] if isinstance(target, str) else list(target or ["grading"])
    envs: list[str] = []
    for name in names:
        if name == "grading":
            envs += list(ctx.exercise.start.applied)
        elif name.startswith("grading:"):
            envs.append(name.split(":", 1)[1])
        else:
            raise RuntimeError(f"app_queries runs on grading databases, not on `{name}`")
    return envs


def app_queries(ctx: GradingContext, p: dict) -> None:
    version, queries = _version(ctx, p)
    each = p.get("at", "end") == "each"
    for env in _grading_envs(ctx, p.get("target")):
        [conn] = _sessions(ctx, env, 1)
        steps = _pending(ctx, env)
        after = "the start state"
        for n, migration in enumerate(steps, 1):
            if error := hist.apply_migration(conn, migration):
                raise CheckFailed(f"{short_name(migration.name)} fails on grading:{env}: {error}")
            after = f"{short_name(migration.name)}"
            if each or n == len(steps):
                _run_version(conn, version, queries, f"grading:{env} after {after}")
        if not steps:
            _run_version(conn, version, queries, f"grading:{env} ({after})")


def _run_version(conn: psycopg.Connection, version: str, queries: list[AppQuery], where: str) -> None:
    [result] = check_versions(conn, {version: queries})
    if not result.ok:
        raise CheckFailed(f"{result.summary()} on {where}")


def max_stall_ms(ctx: GradingContext, p: dict) -> None:
    env = _env(ctx, p)
    _need_selected(ctx, {})
    version, queries = _version(ctx, p)
    hold_ms = int(p.get("long_transaction_ms", 0))
    deployer, holder, *traffic = _sessions(ctx, env, 2 + TRAFFIC_SESSIONS)
    # Sent the way `migrate deploy` sends a file (Prisma 7: statement by statement, each committing on
    # its own); a retry after a lock_timeout resumes at the statement that failed.
    plan = [
        (migration, text)
        for migration in _pending(ctx, env)
        for text in [p.text for p in split_statements(migration.sql) or []] or [migration.sql]
    ]
    position = 0

    def deploy() -> str:
        nonlocal position
        while position < len(plan):
            migration, text = plan[position]
            try:
                deployer.execute(text.encode())
            except psycopg.Error as error:
                if deployer.info.transaction_status == TransactionStatus.INERROR:
                    deployer.execute("ROLLBACK")
                return f"{short_name(migration.name)}: {pg_error(error)}"
            position += 1
        return ""

    timeline = run_with_traffic(
        traffic, queries, deploy, long_transaction=holder, long_transaction_ms=hold_ms
    )
    longest = timeline.longest
    if longest is not None and longest.duration_ms > float(p["ms"]):
        cause = f" ({longest.error})" if longest.error else ""
        raise CheckFailed(
            f"app {version}'s query \"{longest.query}\" waited {longest.duration_ms:.0f} ms{cause} while "
            f"your migrations deployed to a copy of {env} (at most {p['ms']} ms expected)"
        )
    if timeline.deploy_error:
        raise CheckFailed(f"the deploy under traffic failed: {timeline.deploy_error}")


def param_problems(kind: str, params: dict) -> list[str]:
    problems = []
    if kind == "max_lock" and params.get("mode") not in MODES:
        problems.append(f"`mode` must be one of {', '.join(MODES)}")
    if kind == "app_queries" and params.get("at", "end") not in ("end", "each"):
        problems.append("`at` must be `end` or `each`")
    if kind == "max_stall_ms" and not isinstance(params.get("ms"), int | float):
        problems.append("`ms` must be a number of milliseconds")
    if kind in ("lint_clean", "no_rewrite"):
        key = "rules" if kind == "lint_clean" else "tables"
        value = params.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"`{key}` must be a list of names")
    return problems
