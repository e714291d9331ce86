"""The risk check kinds on a fixture exercise, graded on real grading databases like every other kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.exercises.loader import load_exercises
from app.exercises.model import Exercise, Migration

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "risk_exercises"
RISK = ["lock", "no-rewrite", "lint", "app-v1", "stall"]


@pytest.fixture(scope="module")
def exercise() -> Exercise:
    loaded = load_exercises(FIXTURE)
    assert loaded.problems == []
    [found] = loaded.exercises
    return found


def _new(sql: str, name: str = "20240102000000_change") -> list[Migration]:
    return [Migration(name, sql)]


def test_app_queries_versions_are_loaded_with_names_and_params(exercise: Exercise) -> None:
    [load, rename] = exercise.app_queries["v1"]
    assert (load.name, load.params) == ("load profile", (1,))
    assert rename.params == (2, "Bea")


def test_concurrent_index_passes_every_risk_check(exercise, grade_with) -> None:
    sql = 'CREATE INDEX CONCURRENTLY "User_email_idx" ON "User"("email");'
    result = grade_with(exercise, _new(sql), ["prod"])
    assert result.problem is None
    assert result.failed_ids == [], [(r.id, r.detail) for r in result.results if not r.passed]


def test_a_plain_index_blocks_writes_and_is_linted(exercise, grade_with) -> None:
    result = grade_with(exercise, _new('CREATE INDEX "User_email_idx" ON "User"("email");'), ["prod"])
    details = {r.id: r.detail for r in result.results}
    assert result.failed_ids == ["lock", "lint"]
    assert 'takes ShareLock on "User" (blocks writes' in details["lock"]
    assert "require-concurrent-index-creation" in details["lint"] and "concurrently" in details["lint"]


def test_a_rename_breaks_v1_and_stalls_traffic_behind_the_long_transaction(exercise, grade_with) -> None:
    sql = (
        'ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";\n'
        'CREATE INDEX "User_email_idx" ON "User"("email");\n'
    )
    result = grade_with(exercise, _new(sql), ["prod"])
    details = {r.id: r.detail for r in result.results}
    assert set(result.failed_ids) == {"lock", "lint", "app-v1", "stall"}
    assert 'column "name" does not exist' in details["app-v1"] and "v1: 0/2 queries OK" in details["app-v1"]
    assert "waited" in details["stall"]
    assert "AccessExclusiveLock" in details["lock"] and "statement 1" in details["lock"]


def test_lock_timeout_makes_the_same_change_fail_fast_instead_of_stalling(exercise, grade_with) -> None:
    sql = (
        "SET lock_timeout = '100ms';\n"
        'ALTER TABLE "User" ADD COLUMN "nickname" TEXT;\n'
    )
    slow = grade_with(exercise, _new('ALTER TABLE "User" ADD COLUMN "nickname" TEXT;'), ["prod"])
    fast = grade_with(exercise, _new(sql), ["prod"])
    assert "stall" in slow.failed_ids
    assert "stall" not in fast.failed_ids


def test_a_rewrite_fails_no_rewrite(exercise, grade_with) -> None:
    sql = 'ALTER TABLE "User" ALTER COLUMN "id" TYPE BIGINT;'
    result = grade_with(exercise, _new(sql), ["prod"])
    details = {r.id: r.detail for r in result.results}
    assert "no-rewrite" in result.failed_ids and 'rewrites "User"' in details["no-rewrite"]


def test_nothing_done_fails_every_risk_check_without_crashing(exercise, grade_with) -> None:
    result = grade_with(exercise, [])
    assert result.problem is None
    assert {"lock", "no-rewrite", "lint", "stall"} <= set(result.failed_ids)


def test_lessons_check_proves_the_risk_fixture(pg_cluster) -> None:
    from app.exercises.prove import prove_exercises

    assert prove_exercises(FIXTURE, pg_cluster.admin_conninfo()) == []
