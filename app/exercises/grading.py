"""Check my work: replay the learner's history on fresh grading databases and run the checks.

Grading always answers. A learner's migration that fails is a failed check; a check that crashes or
content that does not run is a content problem, reported as such and never counted as an attempt.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg

from app.exercises.checks import KINDS
from app.exercises.checks_risk import FreshCopies
from app.exercises.context import CheckFailed, GradingContext
from app.exercises.databases import CHECK_OPTIONS, ContentError, GradingDatabases, Run
from app.exercises.history import applied_migrations, apply_migration, pg_error_text, record_resolved
from app.exercises.model import Check, Exercise, Migration
from app.exercises.soundness import BUILTINS, HINTS, MESSAGES, replay_schema

log = logging.getLogger(__name__)
DEPLOYS_ID = "deploys"
REPLAY_TIMEOUT_S = 30.0
NOT_STARTED = (
    "Nothing to grade yet: you have not created a migration, deployed one or answered a question. "
    "Start with step 1 of the instructions, then press **Check my work** again."
)
DEPLOYS_MESSAGE = "Your migration history deploys cleanly on fresh copies of the exercise's databases."


@dataclass
class Submission:
    history: list[Migration]
    answers: dict[str, str] = field(default_factory=dict)
    learner_conninfo: dict[str, str] = field(default_factory=dict)  # env -> connection string
    schema: str | None = None  # the workspace's schema.prisma (None: not compared with the history)
    grade_untouched: bool = False  # grade even when nothing was done (lessons check proves the start fails)
    locked: dict[str, str] = field(default_factory=dict)  # quiz id -> why it is locked (brute force)


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
    not_started: str | None = None  # the learner has done nothing yet: what to do first (score 0)

    @property
    def score(self) -> int:
        """Percentage of checks passed."""
        if not self.results:
            return 0
        return round(100 * sum(r.passed for r in self.results) / len(self.results))

    @property
    def passed(self) -> bool:
        return (
            self.problem is None and self.not_started is None and bool(self.results)
            and all(r.passed for r in self.results)
        )

    @property
    def failed_ids(self) -> list[str]:
        return [r.id for r in self.results if not r.passed]


class PlatformError(Exception):
    """A learner environment could not be reached: not the learner's fault, not the content's."""


def _open_learner(conninfo: dict[str, str], env: str) -> psycopg.Connection:
    if env not in conninfo:
        raise PlatformError(f"the {env} environment of your workspace is not available")
    try:
        # Read-only: grading looks at the learner's databases and never changes them. Nothing prepared on
        # the server: a learner's function run by a check could DEALLOCATE a statement and PREPARE its
        # own under the same name, whose rows the next check would then read.
        return psycopg.connect(conninfo[env], autocommit=True, options=CHECK_OPTIONS, prepare_threshold=None)
    except psycopg.Error as error:
        raise PlatformError(f"cannot reach your {env} environment: {error}") from error


def _replay(
    conn: psycopg.Connection, exercise: Exercise, env: str, history: list[Migration], learner_rows: list[dict]
) -> str | None:
    already = set(exercise.start.applied[env])
    # `migrate resolve --applied` in this environment: the change was made by hand (a hotfix), so deploy
    # records it without running it, as `migrate deploy` would there. Whether the hand-made change really
    # is the migration's is the `envs-match-history` check's business.
    resolved = {
        row["migration_name"]
        for row in learner_rows
        if row["finished_at"] and not row["rolled_back_at"] and row.get("applied_steps_count") == 0
    }
    for migration in history:
        if migration.name in already:
            continue
        try:
            if migration.name in resolved:
                record_resolved(conn, migration)
                continue
            error = apply_migration(conn, migration)
        except psycopg.Error as broken:  # the learner's SQL broke the session or its own bookkeeping
            return f"{migration.name} left grading:{env} unusable: {pg_error_text(broken)}"
        if error:
            return f"{migration.name} failed in grading:{env}: {error}"
    return None


def _replay_from_empty(ctx: GradingContext) -> str | None:
    try:
        replay_schema(ctx, ctx.history)
    except CheckFailed as failed:
        return str(failed)
    return None


@contextmanager
def _deadline(conn: psycopg.Connection) -> Iterator[None]:
    """Cancel a replay that outlives REPLAY_TIMEOUT_S (a migration may SET its own timeouts away)."""
    timer = threading.Timer(REPLAY_TIMEOUT_S, conn.cancel)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _alive(conn: psycopg.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def learner_applied(sessions: dict[str, psycopg.Connection]) -> dict[str, list[dict]]:
    """env -> the rows of its `_prisma_migrations`, read on a read-only session with a fixed search path."""
    found: dict[str, list[dict]] = {}
    for env, conn in sessions.items():
        try:
            found[env] = applied_migrations(conn)
        except psycopg.Error:
            found[env] = []  # the learner broke their own table: nothing counts as applied
    return found


def replayable(
    exercise: Exercise, history: list[Migration], applied: dict[str, list[dict]]
) -> list[Migration]:
    """The start migrations and those that applied successfully in one of the learner's environments:
    a file written but never run in the workspace is not replayed."""
    done = {
        row["migration_name"]
        for rows in applied.values()
        for row in rows
        if row["finished_at"] and not row["rolled_back_at"]
    }
    start = set(exercise.start_names)
    return [m for m in history if m.name in start or m.name in done]


def _builtin_checks(exercise: Exercise, ctx: GradingContext) -> list[Check]:
    """The soundness checks that apply: not opted out, and with what they compare at hand."""
    ids = [i for i in BUILTINS if i not in exercise.opt_out]
    if ctx.schema is None:
        ids = [i for i in ids if i != "schema-matches-history"]
    if not ctx.learner_rows:
        ids = [i for i in ids if i != "envs-match-history"]
    return [Check(i, i, {}, MESSAGES[i], HINTS[i]) for i in ids]


def _run_checks(exercise: Exercise, ctx: GradingContext) -> GradeResult:
    errors = list(ctx.replay_errors.values())
    detail = learner_words("; ".join(errors))
    deploys = CheckResult(DEPLOYS_ID, "deploys", not errors, DEPLOYS_MESSAGE, "", detail)
    result = GradeResult([deploys])
    for check in [*_builtin_checks(exercise, ctx), *exercise.checks]:
        outcome = CheckResult(check.id, check.kind, True, check.message, check.hint)
        try:
            if check.kind in BUILTINS:
                BUILTINS[check.kind](ctx)
            else:
                KINDS[check.kind].run(ctx, {**check.params, "_id": check.id})
        except CheckFailed as failed:
            outcome.passed, outcome.detail = False, str(failed)
        except PlatformError as error:
            return GradeResult(problem=f"platform problem: {error}")
        except psycopg.Error as error:
            if not learner_caused(error):
                return _content_crash(exercise, check.id, check.kind, pg_error_text(error))
            outcome.passed = False
            outcome.detail = (
                "your migrations left the database so that this could not be read: "
                f"{error.diag.message_primary or str(error).strip()}"
            )
        except Exception as error:  # any crash in a check is the content's, never the learner's
            return _content_crash(exercise, check.id, check.kind, repr(error))
        outcome.detail = learner_words(outcome.detail)
        result.results.append(outcome)
    return result


GRADING_ENV = re.compile(r"\bgrading:(dev|staging|prod)\b")


def learner_words(detail: str) -> str:
    """Details name the grading databases as a learner would: `the grading copy of prod`."""
    return GRADING_ENV.sub(r"the grading copy of \1", detail)


def _not_started(exercise: Exercise, submission: Submission, applied: dict[str, list[dict]]) -> bool:
    """Nothing done since the start: no new migration, no answer, each environment as it started (a check
    like "no data lost" would pass for nothing)."""
    if [m.name for m in submission.history] != exercise.start_names or submission.answers:
        return False
    if submission.schema is not None and submission.schema.strip() != exercise.start.schema.strip():
        return False
    for env, rows in applied.items():
        done = [r["migration_name"] for r in rows if r["finished_at"] and not r["rolled_back_at"]]
        if done != exercise.start.applied.get(env, []) or len(rows) != len(done):
            return False
    return True


def _content_crash(exercise: Exercise, check_id: str, kind: str, text: str) -> GradeResult:
    log.warning("exercise %s: check %s crashed: %s", exercise.id, check_id, text)
    return GradeResult(problem=f"content problem: check `{check_id}` ({kind}) crashed: {text}")


# SQLSTATEs a learner's own SQL can cause on the check sessions: missing objects, privileges they
# revoked, locks or timeouts they provoked, sessions they ended.
LEARNER_CLASSES = ("42501", "42P01", "42703", "42704", "42883", "3F000", "55P03", "57014", "57P01", "25006")


def learner_caused(error: psycopg.Error) -> bool:
    return error.sqlstate in LEARNER_CLASSES


def grade(exercise: Exercise, submission: Submission, dbs: GradingDatabases) -> GradeResult:
    try:
        templates = dbs.ensure_templates(exercise)
    except ContentError as error:
        log.warning("exercise %s: %s", exercise.id, error)
        return GradeResult(problem=f"content problem: {error}")
    conninfo = submission.learner_conninfo
    try:
        opened = list(dbs.workers.map(lambda env: _open_learner(conninfo, env), list(conninfo)))
    except PlatformError as error:
        return GradeResult(problem=f"platform problem: {error}")
    sessions = dict(zip(conninfo, opened, strict=True))
    try:
        applied = learner_applied(sessions)
        if not submission.grade_untouched and _not_started(exercise, submission, applied):
            return GradeResult(not_started=NOT_STARTED)
        history = replayable(exercise, submission.history, applied)
        with dbs.run(spare_for=(*templates.values(), None)) as run:
            return _grade_in(run, exercise, submission, history, templates, applied, sessions)
    except psycopg.OperationalError as error:
        log.warning("exercise %s: grading databases failed: %s", exercise.id, error)
        return GradeResult(problem=f"platform problem: the grading databases failed: {error}")
    finally:
        for conn in sessions.values():
            conn.close()


def _grade_in(
    run: Run, exercise: Exercise, submission: Submission, history: list[Migration], templates: dict[str, str],
    applied: dict[str, list[dict]], learner_sessions: dict[str, psycopg.Connection],
) -> GradeResult:
    envs = list(templates)
    *names, scratch = run.copies_of([*templates.values(), None])
    clones = dict(zip(envs, names, strict=True))
    opened: list[psycopg.Connection] = []
    copies = FreshCopies(run.dbs, templates)
    ctx: GradingContext | None = None
    try:
        opened = run.connect_all(
            [(n, False) for n in names] + [(n, True) for n in names] + [(scratch, False), (scratch, True)]
        )
        replaying = dict(zip(envs, opened[: len(envs)], strict=True))
        reading = dict(zip(envs, opened[len(envs): 2 * len(envs)], strict=True))
        scratch_conn, scratch_reader = opened[-2:]
        run.seal()  # every session is open: from here on, learner SQL cannot log in as the run's role
        baseline = {env: run.dbs.baseline(templates[env], reading[env]) for env in clones}
        replay_errors: dict[str, str] = {}
        for env, conn in replaying.items():
            with _deadline(conn):
                failure = _replay(conn, exercise, env, history, applied.get(env, []))
            if failure:
                replay_errors[env] = failure
        for env, conn in [*reading.items(), ("scratch", scratch_reader)]:
            if not _alive(conn):
                detail = (
                    f"your migrations ended the grading sessions of grading:{env} (pg_terminate_backend?): "
                    "nothing could be checked there"
                )
                return GradeResult([CheckResult(DEPLOYS_ID, "deploys", False, DEPLOYS_MESSAGE, "", detail)])
        ctx = GradingContext(
            exercise=exercise,
            history=history,
            answers=submission.answers,
            locked=submission.locked,
            grading=reading,
            replay_errors=replay_errors,
            baseline={},
            data_loss=[],
            open_learner=lambda env: _open_learner(submission.learner_conninfo, env),
            replay_from_empty=lambda: _replay_from_empty(made),
            fresh_sessions=copies.sessions,
            submitted=submission.history,
            schema=submission.schema,
            learner_rows=applied,
            scratch=scratch_conn,
            scratch_reader=scratch_reader,
            baseline_data=baseline,
            _learner=dict(learner_sessions),
            workers=run.dbs.workers,
        )
        made = ctx
        with _deadline(scratch_conn):
            return _run_checks(exercise, ctx)
    finally:
        if ctx is not None:
            ctx.close()
        for conn in opened:
            conn.close()
        copies.close()
