"""Prove every exercise: its reference solution passes every check, its start state fails one.

`migration-lab lessons check` calls `prove_exercises`; it plays the solution the way a learner would
(create the migrations, which applies them to dev, then deploy in the declared order) on throwaway
copies of the start state, then grades that as if the learner had pressed Check my work.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from app.exercises.databases import ContentError, GradingDatabases
from app.exercises.grading import GradeResult, Submission, grade
from app.exercises.history import applied_migrations, apply_migration
from app.exercises.loader import load_exercises
from app.exercises.model import Exercise, Migration, Problem

TIMESTAMP = re.compile(r"^(\d{14})_")


def solution_history(exercise: Exercise) -> list[Migration]:
    """Start history + the solution's migrations, timestamped after the last start migration."""
    last = max((int(m[1]) for s in exercise.start_names if (m := TIMESTAMP.match(s))), default=20250101000000)
    created = [
        Migration(m.name if TIMESTAMP.match(m.name) else f"{last + 100 * (i + 1)}_{m.name}", m.sql)
        for i, m in enumerate(exercise.solution.migrations)
    ]
    return [*exercise.start.migrations, *created]


def deploy_history(conninfo: str, history: list[Migration]) -> str | None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        done = {row["migration_name"] for row in applied_migrations(conn) if row["finished_at"]}
        for migration in history:
            if migration.name not in done and (error := apply_migration(conn, migration)):
                return f"{migration.name}: {error}"
    return None


@contextmanager
def learner_envs(dbs: GradingDatabases, exercise: Exercise) -> Iterator[dict[str, str]]:
    """Throwaway copies of the start state as a learner's dev/staging/prod (no grading data), owned by
    a throwaway role as a workspace's are: env -> connection string."""
    templates = dbs.ensure_templates(exercise, with_grading_data=False)
    with dbs.run() as run:
        yield {env: run.conninfo(run.clone(template)) for env, template in templates.items()}


def play_solution(dbs: GradingDatabases, exercise: Exercise) -> GradeResult:
    missing = [m.name for m in exercise.solution.migrations if not m.sql.strip()]
    if missing:
        return GradeResult(problem=f"solution migration {missing[0]} has no `sql`")
    history = solution_history(exercise)
    with learner_envs(dbs, exercise) as envs:
        for env in ["dev", *exercise.solution.deployments]:
            if error := deploy_history(envs[env], history):
                return GradeResult(problem=f"the solution does not deploy to {env}: {error}")
        return grade(exercise, Submission(history, exercise.solution.answers, envs), dbs)


def play_start(dbs: GradingDatabases, exercise: Exercise) -> GradeResult:
    with learner_envs(dbs, exercise) as envs:
        return grade(exercise, Submission(list(exercise.start.migrations), {}, envs), dbs)


def prove_exercise(dbs: GradingDatabases, exercise: Exercise) -> list[Problem]:
    def problem(message: str) -> Problem:
        return Problem(exercise.path, 1, message)

    try:
        solved = play_solution(dbs, exercise)
        started = play_start(dbs, exercise)
    except ContentError as error:
        return [problem(f"content problem: {error}")]
    problems = []
    if solved.problem:
        problems.append(problem(f"reference solution: {solved.problem}"))
    elif not solved.passed:
        failed = [f"{r.id} ({r.detail})" for r in solved.results if not r.passed]
        problems.append(problem(f"the reference solution fails: {', '.join(failed)}"))
    if started.problem:
        problems.append(problem(f"start state: {started.problem}"))
    elif started.passed:
        problems.append(problem("the start state already passes every check: a check can never fail"))
    return problems


@contextmanager
def _grading_databases(admin_conninfo: str | None) -> Iterator[GradingDatabases]:
    if admin_conninfo:
        dbs = GradingDatabases(admin_conninfo)
        yield dbs
        return
    from sandbox.cluster import EmbeddedCluster

    with tempfile.TemporaryDirectory(prefix="migration-lab-check-") as tmp:
        cluster = EmbeddedCluster.create(Path(tmp), name="lessons-check")
        cluster.start()
        try:
            yield GradingDatabases(cluster.admin_conninfo())
        finally:
            cluster.stop(wipe=True)


def prove_exercises(lessons_dir: Path, admin_conninfo: str | None = None) -> list[Problem]:
    """Every problem of every exercise file: loading problems, then the proof of each loaded one."""
    loaded = load_exercises(lessons_dir)
    problems = list(loaded.problems)
    if not loaded.exercises:
        return problems
    # Templates are named by a hash of their content: left in place, they are reused by the next run.
    with _grading_databases(admin_conninfo) as dbs:
        for exercise in loaded.exercises:
            problems += prove_exercise(dbs, exercise)
    return problems
