"""Plays: the solution, mutants (must fail, and fail the checks they name) and alternatives (must pass),
written as migrations + deployments or as steps, parsed from YAML and proved on real databases."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from app.exercises.loader import load_exercise
from app.exercises.model import Migration, Problem, Solution, Step
from app.exercises.prove import play as run_play
from app.exercises.prove import prove_exercise

RENAME = "02-creating-migrations/02-rename-without-data-loss"
RENAME_SQL = 'ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";'
DROP_AND_ADD = 'ALTER TABLE "User" DROP COLUMN "name", ADD COLUMN "fullName" TEXT;'


def with_plays(exercise, mutants=(), alternatives=()):
    return dataclasses.replace(exercise, mutants=list(mutants), alternatives=list(alternatives))


def play(base: Solution, name: str, **changes) -> Solution:
    return dataclasses.replace(base, name=name, why="test", **changes)


def test_a_mutant_that_fails_its_named_checks_and_an_alternative_that_passes_prove(exercises, grading_dbs):
    exercise = exercises[RENAME]
    base = exercise.solution
    steps = [
        Step("create_only", {"name": "rename", "sql": DROP_AND_ADD}),
        Step("edit_migration", {"name": "rename", "sql": RENAME_SQL}),
        Step("deploy", {"env": "dev"}),
    ]
    proved = with_plays(
        exercise,
        mutants=[play(base, "drop-and-add", migrations=[Migration("r", DROP_AND_ADD)], fails=["no-loss"])],
        alternatives=[play(base, "create-only-then-edit", steps=steps)],
    )
    assert prove_exercise(grading_dbs, proved) == []


def test_mutants_that_pass_or_fail_elsewhere_and_a_failing_alternative_are_reported(exercises, grading_dbs):
    exercise = exercises[RENAME]
    base = exercise.solution
    wrong = with_plays(
        exercise,
        mutants=[
            play(base, "same-as-solution"),
            play(base, "drop-and-add", migrations=[Migration("rename", DROP_AND_ADD)], fails=["applied-dev"]),
        ],
        alternatives=[
            play(base, "not-applied", steps=[Step("create_only", {"name": "r", "sql": RENAME_SQL})]),
        ],
    )
    messages = [p.message for p in prove_exercise(grading_dbs, wrong)]
    assert "mutant `same-as-solution` passes every check (test)" in messages
    assert any(m.startswith("mutant `drop-and-add` does not fail applied-dev; it fails: ") for m in messages)
    assert any(m.startswith("alternative `not-applied` fails: ") for m in messages)


def test_a_terminal_resolve_and_an_sql_step_are_played(exercises, grading_dbs):
    exercise = exercises["02-creating-migrations/03-deploy-in-order"]
    resolve = "npx prisma migrate resolve --applied 20240210000000_add_user_bio"
    resolved = play(exercise.solution, "resolve-instead-of-deploy", steps=[
        Step("deploy", {"env": "staging"}),
        Step("sql", {"env": "prod", "query": 'ALTER TABLE "User" ADD COLUMN "bio" TEXT'}),
        Step("terminal", {"env": "prod", "command": resolve}),
        Step("deploy", {"env": "prod"}),
    ])
    result = run_play(grading_dbs, exercise, resolved)
    assert result.problem is None
    assert {r.id: r.passed for r in result.results}["prod"] is True  # both recorded as applied on prod
    bad = [Step("terminal", {"env": "prod", "command": "rm -rf /"})]
    broken = play(exercise.solution, "bad-command", steps=bad)
    assert "is not `prisma migrate resolve|deploy" in run_play(grading_dbs, exercise, broken).problem


PLAYS_YAML = """
mutants:
  - name: drop-and-add
    why: Prisma's generated SQL loses every name
    fails: [no-loss]
    migrations: [{name: rename, sql: 'ALTER TABLE "User" DROP COLUMN "name"'}]
alternatives:
  - name: by-steps
    why: create only, edit, apply
    steps:
      - create_only: {name: rename, sql: "SELECT 1"}
      - edit_migration: {name: rename, sql: 'ALTER TABLE "User" RENAME COLUMN "name" TO "fullName"'}
      - deploy: dev
      - sql: {env: prod, query: "SELECT 1"}
      - terminal: {env: prod, command: "npx prisma migrate resolve --applied x"}
"""


def _with_front_matter(repo_root: Path, tmp_path: Path, extra: str) -> Path:
    source = (repo_root / "lessons" / RENAME.replace("/", "/exercises/")).with_suffix(".md").read_text()
    head, body = source.split("\n---\n", 1)
    folder = tmp_path / "02-creating-migrations" / "exercises"
    folder.mkdir(parents=True)
    path = folder / "02-rename-without-data-loss.md"
    path.write_text(f"{head}\n{extra.strip()}\n---\n{body}")
    return path


def test_plays_load_from_yaml_with_inherited_fields_and_steps(repo_root, tmp_path):
    path = _with_front_matter(repo_root, tmp_path, PLAYS_YAML)
    exercise = load_exercise(path, "02-creating-migrations")
    assert not isinstance(exercise, Problem), exercise
    mutant, alternative = exercise.mutants[0], exercise.alternatives[0]
    assert mutant.fails == ["no-loss"] and mutant.schema == exercise.solution.schema  # inherited
    assert mutant.steps is None and alternative.migrations == exercise.solution.migrations
    actions = [s.action for s in alternative.steps]
    assert actions == ["create_only", "edit_migration", "deploy", "sql", "terminal"]
    assert alternative.steps[2].args == {"env": "dev"}


def test_a_bad_play_is_reported_at_its_line(repo_root, tmp_path):
    bad = yaml.safe_load(PLAYS_YAML)
    bad["mutants"][0]["fails"] = ["no-such-check"]
    bad["alternatives"][0]["steps"].append({"teleport": "prod"})
    path = _with_front_matter(repo_root, tmp_path, yaml.safe_dump(bad, sort_keys=False))
    problem = load_exercise(path, "02-creating-migrations")
    assert isinstance(problem, Problem)
    assert "`fails` lists check ids of this exercise" in problem.message
