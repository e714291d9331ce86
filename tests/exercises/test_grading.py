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
    assert 'threw away the 2 values of "User"."name" in the grading copy of dev' in result["no-loss"].detail
    assert "RENAME COLUMN keeps the values" in result["no-loss"].detail
    assert result["same-rows"].passed is False
    assert 'the 2 values of "User"."name" in the grading copy of dev' in result["same-rows"].detail
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
    assert "the grading copy of prod" in deploys.detail and "23502" in deploys.detail
    assert "contains null values" in deploys.detail


def test_nothing_done_fails_with_each_message(exercises, grade_with):
    exercise = exercises[RENAME]
    result = grade_with(exercise, [])
    failed = {r.id: r for r in result.results if not r.passed}
    assert set(failed) == {"full-name", "name-gone", "applied-dev", "one-migration"}
    assert failed["full-name"].message == "`User` has an optional column `fullName`."
    assert failed["full-name"].detail == '"User"."fullName" is missing in the grading copy of dev'
    # deploys, start-untouched, envs-match-history, no-loss and same-rows pass
    assert result.score == round(100 * 5 / 9)


def test_quiz_wrong_right_and_unanswered(exercises, grade_with):
    exercise = exercises["01-migration-concepts/02-spot-the-data-loss"]
    wrong = by_id(grade_with(exercise, [], answers={"which-statement": "c"}))
    assert wrong["which-statement"].passed is False
    assert wrong["which-statement"].detail == (
        '“ADD COLUMN "displayName" TEXT” is not it: '
        "a new nullable column starts empty; no existing value is touched"
    )
    assert by_id(grade_with(exercise, []))["which-statement"].detail == "no answer chosen yet"
    assert grade_with(exercise, [], answers={"which-statement": "b"}).passed


def test_before_the_learner_acts_the_score_is_zero_and_says_what_to_do_first(exercises, grading_dbs):
    exercise = exercises[RENAME]
    with workspace(grading_dbs, exercise, exercise.start.migrations, []) as conninfo:
        untouched = Submission(list(exercise.start.migrations), {}, conninfo, exercise.start.schema)
        result = grade(exercise, untouched, grading_dbs)
    assert result.results == [] and result.score == 0 and not result.passed
    assert result.not_started is not None and "Start with step 1 of the instructions" in result.not_started


def test_rows_preserved_follows_values_through_renames_and_copies_not_counts(exercises, grade_with):
    exercise = exercises[RENAME]
    nulled = Migration("20240301000000_rename", (
        'ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";\n'
        'UPDATE "User" SET "fullName" = NULL WHERE "email" LIKE \'user1%\';'
    ))
    result = by_id(grade_with(exercise, [nulled]))
    assert not result["same-rows"].passed and not result["no-loss"].passed  # same count, values gone
    truncated = Migration("20240301000000_rename", (
        'ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";\n'
        'UPDATE "User" SET "fullName" = left("fullName", 3);'
    ))
    assert not by_id(grade_with(exercise, [truncated]))["same-rows"].passed
    sneaky = Migration("20240301000000_rename", (  # the drop hidden from any text reading
        "DO $$ BEGIN EXECUTE 'ALTER TABLE \"public\".\"User\" DROP COLUMN ' || quote_ident('name'); END $$;\n"
        'ALTER TABLE "User" ADD COLUMN "fullName" TEXT;'
    ))
    assert not by_id(grade_with(exercise, [sneaky]))["no-loss"].passed


def test_checks_read_on_their_own_session_whatever_search_path_the_migration_leaves(exercises, grade_with):
    exercise = exercises[RENAME]
    decoy = Migration("20240301000000_rename", (
        'CREATE SCHEMA decoy; CREATE TABLE decoy."User" (id int, email text, "fullName" text);\n'
        'ALTER TABLE public."User" DROP COLUMN "name";\n'
        "SET search_path = decoy, public;"
    ))
    result = by_id(grade_with(exercise, [decoy]))
    assert not result["no-loss"].passed and not result["full-name"].passed
    scratch = Migration("20240301000000_rename", (
        'ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";\n'
        "CREATE SCHEMA scratch; SET search_path = scratch;\nREVOKE ALL ON SCHEMA public FROM PUBLIC;"
    ))
    graded = grade_with(exercise, [scratch])
    assert graded.problem is None and graded.passed  # the learner's session settings are theirs alone


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
    result = grade(broken, Submission(list(exercise.start.migrations), grade_untouched=True), grading_dbs)
    assert result.results == [] and not result.passed
    assert result.problem.startswith("content problem: grading_data for prod fails")
    assert 'relation "nowhere" does not exist' in result.problem


def test_a_crashing_check_is_a_content_problem(exercises, grading_dbs):
    exercise = exercises[RENAME]
    crash = Check("typo", "sql", {"query": "SELEC 1"}, "never shown")
    broken = dataclasses.replace(exercise, checks=[*exercise.checks, crash])
    result = grade(broken, Submission(list(exercise.start.migrations), grade_untouched=True), grading_dbs)
    assert result.problem is not None
    assert "check `typo` (sql) crashed" in result.problem and "42601" in result.problem


def test_a_sql_check_on_a_missing_column_is_the_learners_failure(exercises, grading_dbs):
    exercise = exercises[RENAME]
    check = Check("names", "sql", {"query": 'SELECT count("fullName") > 0 FROM "User"'}, "names are kept")
    untouched = Submission(list(exercise.start.migrations), grade_untouched=True)
    result = grade(dataclasses.replace(exercise, checks=[check]), untouched,
                   grading_dbs)
    assert result.problem is None
    assert 'column "fullName" does not exist' in by_id(result)["names"].detail


def test_an_unreachable_learner_environment_is_a_platform_problem(exercises, grading_dbs):
    exercise = exercises["02-creating-migrations/03-deploy-in-order"]
    untouched = Submission(list(exercise.start.migrations), {}, {}, grade_untouched=True)
    result = grade(exercise, untouched, grading_dbs)
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
    assert not deploys.passed and "42501" in deploys.detail and "the grading copy of prod" in deploys.detail


def test_a_migration_never_applied_in_the_workspace_is_not_replayed(exercises, grading_dbs):
    exercise = exercises[RENAME]
    written = Migration(
        "20240301000000_written_only", 'ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";'
    )
    history = [*exercise.start.migrations, written]
    with workspace(grading_dbs, exercise, exercise.start.migrations, []) as conninfo:
        result = by_id(grade(exercise, Submission(history, {}, conninfo), grading_dbs))
    assert result["full-name"].passed is False  # the file exists but never ran in dev


def test_statement_reads_the_parse_tree_not_the_text(exercises, grade_with):
    exercise = exercises[RENAME]
    rename = Check("rename", "statement", {"node": "RenameStmt", "where": {
        "renameType": "OBJECT_COLUMN", "subname": "name", "newname": "fullName"}}, "renamed")
    checked = dataclasses.replace(exercise, checks=[rename])
    without_column = Migration("20240301000000_r", 'ALTER TABLE "User" RENAME "name" TO "fullName";')
    assert by_id(grade_with(checked, [without_column]))["rename"].passed
    in_text_only = Migration("20240301000000_r", (
        "-- ALTER TABLE \"User\" RENAME COLUMN \"name\" TO \"fullName\";\n"
        "SELECT 'RENAME COLUMN \"name\" TO \"fullName\"';"
    ))
    failed = by_id(grade_with(checked, [in_text_only]))["rename"]
    assert not failed.passed and failed.detail == "none of your migrations (`r`) has such a statement"


def test_renamed_is_recognised_from_the_catalog(exercises, grade_with):
    exercise = exercises[RENAME]
    renamed = Check("renamed", "renamed", {"table": "User", "from": "name", "to": "fullName"}, "renamed")
    checked = dataclasses.replace(exercise, checks=[renamed])
    rename = Migration("20240301000000_r", 'ALTER TABLE "User" RENAME "name" TO "fullName";')
    assert by_id(grade_with(checked, [rename]))["renamed"].passed
    copied = Migration("20240301000000_r", (
        'ALTER TABLE "User" ADD COLUMN "fullName" TEXT; UPDATE "User" SET "fullName" = "name";'
        ' ALTER TABLE "User" DROP COLUMN "name";'
    ))
    failed = by_id(grade_with(checked, [copied]))["renamed"]
    assert not failed.passed and "was dropped in the grading copy of dev, not renamed" in failed.detail


def test_naming_and_count_messages_show_what_was_found_and_expected(exercises, grade_with):
    exercise = exercises["02-creating-migrations/01-name-a-migration"]
    sql = exercise.solution.migrations[0].sql
    result = by_id(grade_with(exercise, [Migration("20240301000000_changes", sql)]))
    assert result["named"].detail == (
        "your new migrations are named `changes`; expected names matching `[a-z0-9_]*posts?[a-z0-9_]*`"
    )
    two = by_id(grade_with(exercise, [Migration("20240301000000_add_post", sql),
                                      Migration("20240302000000_more", "SELECT 1;")]))
    assert two["one-migration"].detail == "expected 1, found 2: `add_post`, `more`"
    assert "[" not in two["named"].detail.split("matching")[0]  # no Python list in a learner's message


def test_a_spare_run_is_prepared_in_the_background_and_handed_out_once(exercises, grading_dbs):
    import time

    templates = grading_dbs.ensure_templates(exercises[RENAME])
    key = (*templates.values(), None)
    grading_dbs.settle()  # the gradings of earlier tests left a spare for these templates
    with grading_dbs.run(spare_for=key) as first:
        assert first.prepared == []
    deadline = time.monotonic() + 20
    while key not in grading_dbs._spares and time.monotonic() < deadline:
        time.sleep(0.05)
    spare = grading_dbs._spares[key]
    with grading_dbs.run(spare_for=key) as second:
        assert second is spare and len(second.prepared) == len(key)
        with second.connect(second.prepared[0], checks=True) as conn:  # a copy of the dev template
            assert conn.execute('SELECT count(*) FROM "User"').fetchone() == (2,)
    grading_dbs.settle()
    assert grading_dbs._spares == {}
