"""The lock and rewrite PostgreSQL's documentation states for each common form, observed on a table
with rows (2000 users, 3000 posts); the source database is the same afterwards."""

from __future__ import annotations

import psycopg
import pytest

from sandbox.risk import throwaway_copy, trace
from sandbox.risk.tracer import NOTE_OUTSIDE
from tests.risk.conftest import snapshot

AX, SRX, S, SUX, RS = (
    "AccessExclusiveLock", "ShareRowExclusiveLock", "ShareLock", "ShareUpdateExclusiveLock", "RowShareLock",
)
READS_AND_WRITES = ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE INDEX", "VACUUM", "DDL"]
FK = 'ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id")'

# sql -> (locks strongest first, rewritten tables)
FORMS = {
    'ALTER TABLE "User" ADD COLUMN "bio" TEXT': ([("User", AX)], []),
    'ALTER TABLE "User" ADD COLUMN "rank" INTEGER NOT NULL DEFAULT 0': ([("User", AX)], []),
    'ALTER TABLE "User" ADD COLUMN "seen" TIMESTAMP(3) DEFAULT clock_timestamp()': ([("User", AX)], ["User"]),
    'ALTER TABLE "User" ALTER COLUMN "score" TYPE BIGINT': ([("User", AX)], ["User"]),
    'ALTER TABLE "User" ALTER COLUMN "email" TYPE VARCHAR(100)': ([("User", AX)], []),
    'ALTER TABLE "User" ALTER COLUMN "email" TYPE TEXT': ([("User", AX)], []),
    'ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL': ([("User", AX)], []),
    'CREATE INDEX "User_email_idx" ON "User"("email")': ([("User", S)], []),
    FK: ([("Post", SRX), ("User", SRX)], []),
    'ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE ("email")': ([("User", AX)], []),
    'ALTER TABLE "User" DROP COLUMN "score"': ([("User", AX)], []),
    'ALTER TABLE "User" RENAME COLUMN "name" TO "fullName"': ([("User", AX)], []),
}


@pytest.mark.parametrize("sql", list(FORMS))
def test_each_form_takes_the_documented_lock_and_rewrite(source_db: str, sql: str) -> None:
    before = snapshot(source_db)
    with throwaway_copy(source_db) as copy:
        report = trace(sql, copy)
    [statement] = report.statements
    locks, rewrites = FORMS[sql]
    assert [(lock.relation, lock.mode) for lock in statement.locks] == locks
    assert statement.rewrites == rewrites
    assert statement.error == "" and statement.duration_ms > 0
    assert snapshot(source_db) == before


def test_blocked_operations_follow_the_conflict_table(source_db: str) -> None:
    sql = 'CREATE INDEX "User_email_idx" ON "User"("email");\nALTER TABLE "User" ADD COLUMN "bio" TEXT;'
    with throwaway_copy(source_db) as copy:
        index, column = trace(sql, copy).statements
    assert index.blocks == ["INSERT", "UPDATE", "DELETE", "VACUUM", "DDL"]  # reads go on
    assert column.blocks == READS_AND_WRITES


def test_set_not_null_scans_the_table_without_rewriting_it(source_db: str) -> None:
    with throwaway_copy(source_db) as copy:
        [statement] = trace('ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL', copy).statements
    assert statement.scans == ["User"] and statement.rewrites == []


def test_create_index_concurrently_runs_outside_a_transaction_with_its_lock(source_db: str) -> None:
    before = snapshot(source_db)
    with throwaway_copy(source_db) as copy:
        [statement] = trace('CREATE INDEX CONCURRENTLY "User_email_idx" ON "User"("email")', copy).statements
        with psycopg.connect(copy) as conn:  # it really ran on the copy
            assert conn.execute("SELECT to_regclass('\"User_email_idx\"') IS NOT NULL").fetchone() == (True,)
    assert [(lock.relation, lock.mode) for lock in statement.locks] == [("User", SUX)]
    assert statement.note == NOTE_OUTSIDE
    assert statement.blocks == ["CREATE INDEX", "VACUUM", "DDL"]
    assert snapshot(source_db) == before


def test_foreign_key_not_valid_then_validate(source_db: str) -> None:
    sql = f'{FK} NOT VALID;\n\nALTER TABLE "Post" VALIDATE CONSTRAINT "Post_authorId_fkey";\n'
    with throwaway_copy(source_db) as copy:
        add, validate = trace(sql, copy).statements
    assert [(lock.relation, lock.mode) for lock in add.locks] == [("Post", SRX), ("User", SRX)]
    assert add.scans == []  # NOT VALID: existing rows are not checked
    assert [(lock.relation, lock.mode) for lock in validate.locks] == [("Post", SUX), ("User", RS)]
    assert validate.line == 3
    assert "INSERT" not in validate.blocks and "SELECT" not in validate.blocks
    assert set(validate.scans) == {"Post", "User"}


def test_a_multi_statement_file_is_traced_in_order_and_leaves_the_source_unchanged(source_db: str) -> None:
    sql = (
        "-- Prisma's header\n"
        'ALTER TABLE "User" ADD COLUMN "bio" TEXT;\n\n'
        'CREATE TABLE "Tag" ("id" SERIAL PRIMARY KEY, "userId" INTEGER NOT NULL);\n\n'
        'CREATE INDEX "Tag_userId_idx" ON "Tag"("userId");\n\n'
        'ALTER TABLE "User" ALTER COLUMN "score" TYPE BIGINT;\n\n'
        'UPDATE "User" SET "bio" = \'hi\' WHERE "id" < 10;\n'
    )
    before = snapshot(source_db)
    with throwaway_copy(source_db) as copy:
        report = trace(sql, copy)
        with psycopg.connect(copy) as conn:  # the copy ends migrated
            assert conn.execute('SELECT count(*) FROM "User" WHERE "bio" = \'hi\'').fetchone() == (9,)
    assert [s.line for s in report.statements] == [2, 4, 6, 8, 10]
    bio, tag, tag_index, score, update = report.statements
    assert bio.locks[0].mode == AX and bio.rewrites == []
    assert tag.locks == [] and tag_index.locks == []  # a table nobody can see yet blocks nobody
    assert score.rewrites == ["User"]
    assert [(lock.relation, lock.mode) for lock in update.locks] == [("User", "RowExclusiveLock")]
    assert report.failed is None
    assert snapshot(source_db) == before


def test_lint_findings_land_on_their_statement(source_db: str) -> None:
    sql = 'ALTER TABLE "User" ADD COLUMN "bio" TEXT;\nCREATE INDEX "User_email_idx" ON "User"("email");\n'
    with throwaway_copy(source_db) as copy:
        column, index = trace(sql, copy).statements
    rules = {f.rule: f for f in index.lint}
    assert "require-concurrent-index-creation" in rules
    assert "concurrently" in rules["require-concurrent-index-creation"].help.lower()
    assert "require-concurrent-index-creation" not in {f.rule for f in column.lint}


def test_a_failing_statement_stops_the_trace_with_postgresql_error(source_db: str) -> None:
    sql = 'ALTER TABLE "User" ADD COLUMN "bio" TEXT;\nALTER TABLE "User" ADD COLUMN "bio" TEXT;\nSELECT 1;'
    with throwaway_copy(source_db) as copy:
        report = trace(sql, copy)
    first, second, third = report.statements
    assert first.error == "" and report.failed is second
    assert 'column "bio" of relation "User" already exists' in second.error
    assert third.duration_ms == 0 and third.locks == []
