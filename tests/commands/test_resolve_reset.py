"""`migrate resolve` (P3008, P3011, P3012, P3017) and `migrate reset`."""

from __future__ import annotations

import psycopg

from sandbox.migrate.commands import migrate_deploy, migrate_reset, migrate_resolve, migrate_status
from sandbox.migrate.history import Migration

from .helpers import history_of, query, relation_exists

A = "CREATE TABLE a (id int);\n"
BROKEN = "CREATE TABLE b (id int);\nINSERT INTO b VALUES ('not a number');\n"
FIXED = "CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\n"


def _failed_deploy(db: str):
    history = history_of(A, BROKEN)
    assert migrate_deploy(history, db).error_code == "P3018"
    return history


def test_rolled_back_then_fixed_migration_deploys_again(fresh_db: str) -> None:
    history = _failed_deploy(fresh_db)
    result = migrate_resolve(history, fresh_db, rolled_back="20240101000002_m2")
    assert result.exit_code == 0, result.output
    assert result.output == "Migration 20240101000002_m2 marked as rolled back.\n"
    assert result.failed == []
    rows = query(
        fresh_db,
        "SELECT rolled_back_at IS NOT NULL FROM _prisma_migrations "
        "WHERE migration_name = '20240101000002_m2'",
    )
    assert rows == [(True,)]  # the row is kept, marked
    # The statement before the failure stayed applied (Prisma 7.10.1 runs statement by statement):
    # undo it by hand before the fixed file runs again.
    assert relation_exists(fresh_db, "b")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("DROP TABLE b")
    history.migrations[1] = Migration("20240101000002_m2", FIXED)
    again = migrate_deploy(history, fresh_db)
    assert again.applied == ["20240101000002_m2"], again.output
    assert query(fresh_db, "SELECT id FROM b") == [(1,)]
    assert migrate_status(history, fresh_db).exit_code == 0


def test_applied_after_a_manual_hotfix(fresh_db: str) -> None:
    history = _failed_deploy(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("INSERT INTO b VALUES (1)")  # the hotfix, by hand: the CREATE TABLE already ran
    result = migrate_resolve(history, fresh_db, applied="20240101000002_m2")
    assert result.exit_code == 0, result.output
    assert result.output == "Migration 20240101000002_m2 marked as applied.\n"
    rows = query(
        fresh_db,
        "SELECT finished_at IS NOT NULL, rolled_back_at IS NOT NULL, applied_steps_count "
        "FROM _prisma_migrations WHERE migration_name = '20240101000002_m2' ORDER BY started_at",
    )
    assert rows == [(False, True, 0), (True, False, 0)]
    status = migrate_status(history, fresh_db)
    assert status.exit_code == 0, status.output


def test_applied_twice_is_p3008(fresh_db: str) -> None:
    history = history_of(A)
    migrate_deploy(history, fresh_db)
    result = migrate_resolve(history, fresh_db, applied="20240101000001_m1")
    assert result.error_code == "P3008"
    assert (
        "The migration `20240101000001_m1` is already recorded as applied in the database." in result.output
    )


def test_applied_unknown_migration_is_p3017(fresh_db: str) -> None:
    result = migrate_resolve(history_of(A), fresh_db, applied="m1")
    assert result.error_code == "P3017"
    assert "The migration m1 could not be found." in result.output


def test_rolling_back_a_never_applied_migration_is_p3011(fresh_db: str) -> None:
    history = history_of(A)
    migrate_deploy(history, fresh_db)
    result = migrate_resolve(history, fresh_db, rolled_back="20240101000009_x")
    assert result.error_code == "P3011"
    assert "cannot be rolled back because it was never applied to the database" in result.output


def test_rolling_back_a_succeeded_migration_is_p3012(fresh_db: str) -> None:
    history = history_of(A)
    migrate_deploy(history, fresh_db)
    result = migrate_resolve(history, fresh_db, rolled_back="20240101000001_m1")
    assert result.error_code == "P3012"
    assert "cannot be rolled back because it is not in a failed state." in result.output


def test_resolve_needs_exactly_one_flag(fresh_db: str) -> None:
    both = migrate_resolve(history_of(A), fresh_db, applied="x", rolled_back="y")
    assert both.exit_code == 1
    assert both.output == "Error: Pass either --applied or --rolled-back, not both.\n"
    neither = migrate_resolve(history_of(A), fresh_db)
    assert (
        neither.exit_code == 1 and "--applied or --rolled-back must be part of the command" in neither.output
    )


def test_baselining_an_existing_database(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(A)
    history = history_of(A, "CREATE TABLE c (id int);\n")
    assert migrate_resolve(history, fresh_db, applied="20240101000001_m1").exit_code == 0
    result = migrate_deploy(history, fresh_db)
    assert result.applied == ["20240101000002_m2"], result.output


def test_reset_refuses_without_force(fresh_db: str) -> None:
    history = history_of(A)
    migrate_deploy(history, fresh_db)
    result = migrate_reset(history, fresh_db)
    assert result.needs_confirmation and result.exit_code == 1
    assert result.output == "Are you sure you want to reset your database? All data will be lost.\n"
    assert relation_exists(fresh_db, "a")


def test_reset_drops_everything_and_reapplies(fresh_db: str) -> None:
    history = _failed_deploy(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE stray (id int); CREATE TYPE mood AS ENUM ('ok'); INSERT INTO a VALUES (7)")
    history.migrations[1] = Migration("20240101000002_m2", FIXED)
    result = migrate_reset(history, fresh_db, force=True)
    assert result.exit_code == 0, result.output
    assert result.applied == ["20240101000001_m1", "20240101000002_m2"]
    assert "Database reset successful\n\nThe following migration(s) have been applied:\n" in result.output
    assert not relation_exists(fresh_db, "stray")
    assert query(fresh_db, "SELECT count(*) FROM a") == [(0,)]
    assert query(fresh_db, "SELECT count(*) FROM pg_type WHERE typname = 'mood'") == [(0,)]
    assert query(fresh_db, "SELECT count(*) FROM _prisma_migrations") == [(2,)]
    assert migrate_status(history, fresh_db).exit_code == 0
