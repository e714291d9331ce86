"""Check my work: replay the learner's history on fresh grading databases and run the checks.

Grading always answers. A learner's migration that fails is a failed check; a check that crashes or
content that does not run is a content problem, reported as such and never counted as an attempt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import psycopg

from app.exercises import catalog
from app.exercises.checks import KINDS
from app.exercises.checks_risk import FreshCopies
from app.exercises.context import CheckFailed, GradingContext
from app.exercises.databases import ContentError, GradingDatabases
from app.exercises.dataloss import data_loss
from app.exercises.history import apply_migration, pg_error_text
from app.exercises.model import Exercise, Migration

log = logging.getLogger(__name__)
DEPLOYS_ID = "deploys"
DEPLOYS_MESSAGE = "Your migration history deploys cleanly on fresh copies of the exercise's databases."


@dataclass
class Submission:
    history: list[Migration]
    answers: dict[str, str] = field(default_factory=dict)
    learner_conninfo: dict[str, str] = field(default_factory=dict)  # env -> connection string


@dataclass
class CheckResult:
    id: str
    kind: str
    passed: bool
    message: str
    hint: str = ""
    detail: str = ""


@dataclass
class GradeResult:
    results: list[CheckResult] = field(default_factory=list)
    problem: str | None = None  # content or platform problem: not the learner's failure

    @property
    def score(self) -> int:
        """Percentage of checks passed."""
        if not self.results:
            return 0
        return round(100 * sum(r.passed for r in self.results) / len(self.results))

    @property
    def passed(self) -> bool:
        return self.problem is None and bool(self.results) and all(r.passed for r in self.results)

    @property
    def failed_ids(self) -> list[str]:
        return [r.id for r in self.results if not r.passed]


class PlatformError(Exception):
    """A learner environment could not be reached: not the learner's fault, not the content's."""


def _open_learner(conninfo: dict[str, str], env: str) -> psycopg.Connection:
    if env not in conninfo:
        raise PlatformError(f"the {env} environment of your workspace is not available")
    try:
        # Read-only: grading looks at the learner's databases and never changes them.
        return psycopg.connect(
            conninfo[env], autocommit=True, options="-c default_transaction_read_only=on"
        )
    except psycopg.Error as error:
        raise PlatformError(f"cannot reach your {env} environment: {error}") from error


def _rows_checks(exercise: Exercise) -> list[tuple[str, str]]:
    return [
        (table, c.params.get("mode", "count"))
        for c in exercise.checks
        if c.kind == "rows_preserved"
        for table in c.params["tables"]
    ]


def _replay(
    conn: psycopg.Connection, exercise: Exercise, env: str, history: list[Migration], losses: list[str]
) -> str | None:
    already = set(exercise.start.applied[env])
    for migration in history:
        if migration.name in already:
            continue
        losses += [f"{loss} (grading:{env})" for loss in data_loss(conn, migration.name, migration.sql)]
        error = apply_migration(conn, migration)
        if error:
            return f"{migration.name} failed in grading:{env}: {error}"
    return None


def _replay_from_empty(dbs: GradingDatabases, history: list[Migration]) -> str | None:
    name = dbs.clone(None)
    try:
        with dbs.connect(name) as conn:
            for migration in history:
                error = apply_migration(conn, migration)
                if error:
                    return f"{migration.name} fails on an empty database: {error}"
        return None
    finally:
        dbs.drop([name])


def _run_checks(exercise: Exercise, ctx: GradingContext) -> GradeResult:
    errors = list(ctx.replay_errors.values())
    deploys = CheckResult(DEPLOYS_ID, "deploys", not errors, DEPLOYS_MESSAGE, "", "; ".join(errors))
    result = GradeResult([deploys])
    for check in exercise.checks:
        outcome = CheckResult(check.id, check.kind, True, check.message, check.hint)
        try:
            KINDS[check.kind].run(ctx, {**check.params, "_id": check.id})
        except CheckFailed as failed:
            outcome.passed, outcome.detail = False, str(failed)
        except PlatformError as error:
            return GradeResult(problem=f"platform problem: {error}")
        except Exception as error:  # any crash in a check is the content's, never the learner's
            text = pg_error_text(error) if isinstance(error, psycopg.Error) else repr(error)
            log.warning("exercise %s: check %s crashed: %s", exercise.id, check.id, text)
            return GradeResult(problem=f"content problem: check `{check.id}` ({check.kind}) crashed: {text}")
        result.results.append(outcome)
    return result


def grade(exercise: Exercise, submission: Submission, dbs: GradingDatabases) -> GradeResult:
    try:
        templates = dbs.ensure_templates(exercise)
    except ContentError as error:
        log.warning("exercise %s: %s", exercise.id, error)
        return GradeResult(problem=f"content problem: {error}")
    clones = {env: dbs.clone(template) for env, template in templates.items()}
    grading: dict[str, psycopg.Connection] = {}
    copies = FreshCopies(dbs, templates)
    ctx: GradingContext | None = None
    try:
        baseline: dict[str, dict[str, str]] = {}
        replay_errors: dict[str, str] = {}
        losses: list[str] = []
        for env, name in clones.items():
            conn = grading[env] = dbs.connect(name)
            baseline[env] = {
                f"{table}|{mode}": catalog.table_fingerprint(conn, table, mode)
                for table, mode in _rows_checks(exercise)
            }
            if failure := _replay(conn, exercise, env, submission.history, losses):
                replay_errors[env] = failure
        ctx = GradingContext(
            exercise=exercise,
            history=submission.history,
            answers=submission.answers,
            grading=grading,
            replay_errors=replay_errors,
            baseline=baseline,
            data_loss=losses,
            open_learner=lambda env: _open_learner(submission.learner_conninfo, env),
            replay_from_empty=lambda: _replay_from_empty(dbs, submission.history),
            fresh_sessions=copies.sessions,
        )
        return _run_checks(exercise, ctx)
    except psycopg.OperationalError as error:
        log.warning("exercise %s: grading databases failed: %s", exercise.id, error)
        return GradeResult(problem=f"platform problem: the grading databases failed: {error}")
    finally:
        if ctx is not None:
            ctx.close()
        for conn in grading.values():
            conn.close()
        copies.close()
        dbs.drop(clones.values())
