"""Prove every exercise: its reference solution and each alternative pass every check; its start state
and each mutant fail (a mutant the checks it names in `fails`).

`migration-lab lessons check` calls `prove_exercises`. Each play is done the way a learner would do it
(create the migrations, which applies them to dev, then deploy in the declared order; or the play's
`steps`: create, create only, deploy, SQL console, terminal, editing a saved migration) on throwaway
copies of the start state, then graded as if the learner had pressed Check my work.
"""

from __future__ import annotations

import re
import shlex
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from app.exercises.databases import ContentError, GradingDatabases
from app.exercises.grading import GradeResult, Submission, grade
from app.exercises.history import applied_migrations, apply_migration
from app.exercises.loader import load_exercises
from app.exercises.model import Exercise, Migration, Problem, Solution, Step
from sandbox.migrate import MemoryHistory, migrate_deploy, migrate_resolve

RESOLVE_FLAGS = ("--applied", "--rolled-back")
TIMESTAMP = re.compile(r"^(\d{14})_")


def _timestamped(exercise: Exercise, existing: list[Migration], name: str) -> str:
    """`add_bio` -> `<after the last migration>_add_bio`; a full folder name is kept."""
    if TIMESTAMP.match(name):
        return name
    last = max((int(m[1]) for e in existing if (m := TIMESTAMP.match(e.name))), default=20250101000000)
    return f"{last + 100}_{name}"


def solution_history(exercise: Exercise, play: Solution | None = None) -> list[Migration]:
    """Start history + the play's migrations (the solution's by default), timestamped after the start."""
    history = list(exercise.start.migrations)
    for m in (play or exercise.solution).migrations:
        history.append(Migration(_timestamped(exercise, history, m.name), m.sql))
    return history


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


class PlayError(Exception):
    """The play itself cannot be played (a step fails where the author expected it to work)."""


def _steps_of(exercise: Exercise, play: Solution) -> list[Step]:
    if play.steps is not None:
        return play.steps
    steps = [Step("create", {"name": m.name, "sql": m.sql}) for m in play.migrations]
    return steps + [Step("deploy", {"env": env}) for env in play.deployments]


def _resolve(history: list[Migration], conninfo: str, command: str) -> None:
    """`[npx] prisma migrate resolve --applied|--rolled-back <name>` or `… migrate deploy`."""
    words = [w for w in shlex.split(command) if w not in ("npx", "prisma")]
    store = MemoryHistory(list(history))
    if words[:2] == ["migrate", "deploy"]:
        result = migrate_deploy(store, conninfo)
    elif words[:2] == ["migrate", "resolve"] and len(words) == 4 and words[2] in RESOLVE_FLAGS:
        flag = "applied" if words[2] == "--applied" else "rolled_back"
        result = migrate_resolve(store, conninfo, **{flag: words[3]})
    else:
        raise PlayError(f"the terminal step `{command}` is not `prisma migrate resolve|deploy …`")
    if result.exit_code != 0:
        raise PlayError(f"`{command}` fails: {result.output.strip()}")


def play_steps(exercise: Exercise, play: Solution, envs: dict[str, str]) -> list[Migration]:
    """Do what the play says on the learner's envs; returns the history the workspace ends with."""
    history = list(exercise.start.migrations)
    for step in _steps_of(exercise, play):
        args = step.args
        if step.action in ("create", "create_only"):
            migration = Migration(_timestamped(exercise, history, args["name"]), args["sql"])
            history.append(migration)
            if step.action == "create" and (error := deploy_history(envs["dev"], history)):
                raise PlayError(f"creating {migration.name} fails in dev: {error}")
        elif step.action == "deploy":
            if error := deploy_history(envs[args["env"]], history):
                raise PlayError(f"deploying to {args['env']} fails: {error}")
        elif step.action == "sql":
            try:
                with psycopg.connect(envs[args["env"]], autocommit=True) as conn:
                    conn.execute(args["query"].encode())
            except psycopg.Error as error:
                raise PlayError(f"the SQL step on {args['env']} fails: {error}") from error
        elif step.action == "terminal":
            _resolve(history, envs[args["env"]], args["command"])
        elif step.action == "edit_migration":
            found = [i for i, m in enumerate(history) if m.name == args["name"] or
                     TIMESTAMP.sub("", m.name) == args["name"]]
            if not found:
                raise PlayError(f"edit_migration: no migration named {args['name']}")
            history[found[-1]] = Migration(history[found[-1]].name, args["sql"])
    return history


def play(dbs: GradingDatabases, exercise: Exercise, which: Solution | None) -> GradeResult:
    """Play `which` (None: do nothing, the start state) on fresh learner envs and grade it."""
    with learner_envs(dbs, exercise) as envs:
        if which is None:
            start = Submission(list(exercise.start.migrations), {}, envs, exercise.start.schema, True)
            return grade(exercise, start, dbs)
        else:
            try:
                history = play_steps(exercise, which, envs)
            except PlayError as error:
                return GradeResult(problem=str(error))
            schema, answers = which.schema, which.answers
        return grade(exercise, Submission(history, answers, envs, schema=schema), dbs)


def play_solution(dbs: GradingDatabases, exercise: Exercise) -> GradeResult:
    return play(dbs, exercise, exercise.solution)


def play_start(dbs: GradingDatabases, exercise: Exercise) -> GradeResult:
    return play(dbs, exercise, None)


def _failed(result: GradeResult) -> str:
    return ", ".join(f"{r.id} ({r.detail})" if r.detail else r.id for r in result.results if not r.passed)


def prove_exercise(dbs: GradingDatabases, exercise: Exercise) -> list[Problem]:
    """The solution passes, the start fails, every mutant fails (its `fails` among the failed checks),
    every alternative passes."""

    def problem(message: str) -> Problem:
        return Problem(exercise.path, 1, message)

    problems = []
    try:
        solved = play_solution(dbs, exercise)
        started = play_start(dbs, exercise)
        if solved.problem:
            problems.append(problem(f"reference solution: {solved.problem}"))
        elif solved.not_started:
            problems.append(problem("the reference solution does nothing (no migration, deployment, answer)"))
        elif not solved.passed:
            problems.append(problem(f"the reference solution fails: {_failed(solved)}"))
        if started.problem:
            problems.append(problem(f"start state: {started.problem}"))
        elif started.passed:
            problems.append(problem("the start state already passes every check: a check can never fail"))
        for mutant in exercise.mutants:
            result = play(dbs, exercise, mutant)
            if result.problem:
                problems.append(problem(f"mutant `{mutant.name}`: {result.problem}"))
            elif result.passed:
                problems.append(problem(f"mutant `{mutant.name}` passes every check ({mutant.why})"))
            elif missing := [f for f in mutant.fails if f not in result.failed_ids]:
                problems.append(problem(
                    f"mutant `{mutant.name}` does not fail {', '.join(missing)}; it fails: {_failed(result)}"
                ))
        for alternative in exercise.alternatives:
            result = play(dbs, exercise, alternative)
            if result.problem:
                problems.append(problem(f"alternative `{alternative.name}`: {result.problem}"))
            elif not result.passed:
                problems.append(problem(f"alternative `{alternative.name}` fails: {_failed(result)}"))
    except ContentError as error:
        return [problem(f"content problem: {error}")]
    return problems


@contextmanager
def _grading_databases(admin_conninfo: str | None) -> Iterator[GradingDatabases]:
    if admin_conninfo:
        dbs = GradingDatabases(admin_conninfo)
        try:
            yield dbs
        finally:
            dbs.close()
        return
    from sandbox import EmbeddedCluster

    with tempfile.TemporaryDirectory(prefix="migration-lab-check-") as tmp:
        cluster = EmbeddedCluster.create(Path(tmp), name="lessons-check")
        cluster.start()
        dbs = GradingDatabases(cluster.admin_conninfo())
        try:
            yield dbs
        finally:
            dbs.close()
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
