"""Check my work against real databases: a pass, each way of failing, content problems and crashes."""

from __future__ import annotations

import dataclasses

import psycopg

from app.exercises.grading import Submission, grade
from app.exercises.history import applied_migrations
from app.exercises.model import Check, Migration
from app.exercises.prove import solution_history
from tests.exercises.conftest import workspace

RENAME = "02-creating-migrations/02-rename-without-data-loss"
DROP_AND_ADD = Migration(
    "20240301000000_rename_name",
    'ALTER TABLE "User" DROP COLUMN "name",\nADD COLUMN     "fullName" TEXT;',
)


def by_id(result):
    return {r.id: r for r in result.results}


def test_reference_solution_passes_every_check(exercises, grade_with):
    exercise = exercises[RENAME]
    new = solution_history(exercise)[len(exercise.start.migrations):]
    result = grade_with(exercise, new)
    assert result.problem is None
    assert [r.id for r in result.results if not r.passed] == []
    assert result.passed and result.score == 100


def test_drop_and_add_loses_data_and_fails_the_data_checks(exercises, grade_with):
    result = by_id(grade_with(exercises[RENAME], [DROP_AND_ADD]))
    assert result["no-loss"].passed is False
    assert "drops the column `name` of `User`" in result["no-loss"].detail
    assert "10004 non-null values (grading:prod)" in result["no-loss"].detail  # seed + grading data
    assert result["same-rows"].passed is False
    assert result["rename"].passed is False
    # The schema ends up right, so the schema checks pass: only the data lesson fails.
    assert result["full-name"].passed and result["name-gone"].passed


def test_a_migration_that_fails_on_grading_data_fails_the_deploy_check(exercises, grade_with):
    # NOT NULL holds in the learner's dev (two named users) but not on the grading NULL names.
    migration = Migration(
        "20240301000000_rename_name",
        'ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";\n'
        'ALTER TABLE "User" ALTER COLUMN "fullName" SET NOT NULL;',
    )
    result = grade_with(exercises[RENAME], [migration])
    deploys = by_id(result)["deploys"]
    assert result.problem is None and not result.passed
    assert not deploys.passed
    assert "grading:prod" in deploys.detail and "23502" in deploys.detail
    assert "contains null values" in deploys.detail


def test_nothing_done_fails_with_each_message(exercises, grade_with):
    exercise = exercises[RENAME]
    result = grade_with(exercise, [])
    failed = {r.id: r for r in result.results if not r.passed}
    assert set(failed) == {"full-name", "name-gone", "rename", "applied-dev", "one-migration"}
    assert failed["full-name"].message == "`User` has an optional text column `fullName`."
    assert failed["full-name"].detail == '"User"."fullName" is missing in grading:dev'
    assert result.score == round(100 * 3 / 8)


def test_quiz_wrong_right_and_unanswered(exercises, grade_with):
    exercise = exercises["01-migration-concepts/02-spot-the-data-loss"]
    wrong = by_id(grade_with(exercise, [], answers={"which-statement": "c"}))
    assert wrong["which-statement"].passed is False
    assert by_id(grade_with(exercise, []))["which-statement"].detail == "no answer chosen yet"
    assert grade_with(exercise, [], answers={"which-statement": "b"}).passed


def test_deploy_exercise_checks_order_and_prod_data(exercises, grade_with):
    exercise = exercises["02-creating-migrations/03-deploy-in-order"]
    assert grade_with(exercise, [], deploy=["staging", "prod"]).passed
    wrong_order = by_id(grade_with(exercise, [], deploy=["prod", "staging"]))
    assert not wrong_order["order"].passed and "before staging" in wrong_order["order"].detail
    only_staging = by_id(grade_with(exercise, [], deploy=["staging"]))
    assert only_staging["staging"].passed and not only_staging["prod"].passed


def test_grading_never_modifies_the_learners_workspace(exercises, grading_dbs):
    exercise = exercises[RENAME]
    history = [*exercise.start.migrations, DROP_AND_ADD]
    with workspace(grading_dbs, exercise, exercise.start.migrations, []) as conninfo:
        grade(exercise, Submission(history, {}, conninfo), grading_dbs)
        with psycopg.connect(conninfo["dev"]) as conn:
            assert [r["migration_name"] for r in applied_migrations(conn)] == ["20240201000000_init"]
            assert conn.execute('SELECT count("name") FROM "User"').fetchone() == (2,)


def test_broken_content_is_a_content_problem_not_a_failure(exercises, grading_dbs):
    exercise = exercises[RENAME]
    broken = dataclasses.replace(exercise, grading_data={"prod": "INSERT INTO nowhere VALUES (1);"})
    result = grade(broken, Submission(list(exercise.start.migrations)), grading_dbs)
    assert result.results == [] and not result.passed
    assert result.problem.startswith("content problem: grading_data for prod fails")
    assert 'relation "nowhere" does not exist' in result.problem


def test_a_crashing_check_is_a_content_problem(exercises, grading_dbs):
    exercise = exercises[RENAME]
    crash = Check("typo", "sql", {"query": "SELEC 1"}, "never shown")
    broken = dataclasses.replace(exercise, checks=[*exercise.checks, crash])
    result = grade(broken, Submission(list(exercise.start.migrations)), grading_dbs)
    assert result.problem is not None
    assert "check `typo` (sql) crashed" in result.problem and "42601" in result.problem


def test_a_sql_check_on_a_missing_column_is_the_learners_failure(exercises, grading_dbs):
    exercise = exercises[RENAME]
    check = Check("names", "sql", {"query": 'SELECT count("fullName") > 0 FROM "User"'}, "names are kept")
    result = grade(dataclasses.replace(exercise, checks=[check]), Submission(list(exercise.start.migrations)),
                   grading_dbs)
    assert result.problem is None
    assert 'column "fullName" does not exist' in by_id(result)["names"].detail


def test_an_unreachable_learner_environment_is_a_platform_problem(exercises, grading_dbs):
    exercise = exercises["02-creating-migrations/03-deploy-in-order"]
    result = grade(exercise, Submission(list(exercise.start.migrations), {}, {}), grading_dbs)
    assert result.problem == "platform problem: the staging environment of your workspace is not available"


def test_learner_sql_runs_without_superuser_rights(exercises, grading_dbs):
    exercise = exercises[RENAME]
    # A no-op in the learner's own databases; in grading:prod (recognised by its grading rows) it tries
    # to run a program on the server.
    evil = Migration("20240301000000_evil", (
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM \"User\" WHERE \"email\" = 'null-name@example.com') THEN\n"
        "  EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch /tmp/pwned-by-grading''';\n"
        "END IF; END $$;"
    ))
    history = [*exercise.start.migrations, evil]
    with workspace(grading_dbs, exercise, history, ["staging", "prod"]) as conninfo:
        result = grade(exercise, Submission(history, {}, conninfo), grading_dbs)
    deploys = by_id(result)["deploys"]
    assert result.problem is None
    assert not deploys.passed and "42501" in deploys.detail and "grading:prod" in deploys.detail


def test_a_migration_never_applied_in_the_workspace_is_not_replayed(exercises, grading_dbs):
    exercise = exercises[RENAME]
    written = Migration(
        "20240301000000_written_only", 'ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";'
    )
    history = [*exercise.start.migrations, written]
    with workspace(grading_dbs, exercise, exercise.start.migrations, []) as conninfo:
        result = by_id(grade(exercise, Submission(history, {}, conninfo), grading_dbs))
    assert result["full-name"].passed is False  # the file exists but never ran in dev
