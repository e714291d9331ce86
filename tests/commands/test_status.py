"""`migrate status`: Prisma's texts and exit code 1 whenever the database is not in sync."""

from __future__ import annotations

import psycopg

from sandbox.migrate.commands import migrate_deploy, migrate_status
from sandbox.migrate.history import MemoryHistory, Migration

from .helpers import history_of

A = "CREATE TABLE a (id int);\n"
B = "CREATE TABLE b (id int);\n"


def test_up_to_date(fresh_db: str) -> None:
    history = history_of(A, B)
    migrate_deploy(history, fresh_db)
    result = migrate_status(history, fresh_db)
    assert result.exit_code == 0
    assert result.output == "2 migrations found in prisma/migrations\n\nDatabase schema is up to date!\n"
    assert result.report == ["Database schema is up to date!"]


def test_pending(fresh_db: str) -> None:
    history = history_of(A)
    migrate_deploy(history, fresh_db)
    history.add(Migration("20240101000005_b", B))
    history.add(Migration("20240101000006_c", B))
    result = migrate_status(history, fresh_db)
    assert result.exit_code == 1
    assert result.pending == ["20240101000005_b", "20240101000006_c"]
    assert result.output == (
        "3 migrations found in prisma/migrations\n"
        "Following migrations have not yet been applied:\n20240101000005_b\n20240101000006_c\n\n"
        "To apply migrations in development run prisma migrate dev.\n"
        "To apply migrations in production run prisma migrate deploy.\n"
    )
    # The same findings as data, without the count and the advice: what the panel's cards show.
    assert result.report == ["Following migrations have not yet been applied:", *result.pending]


def test_single_pending_uses_prismas_singular(fresh_db: str) -> None:
    result = migrate_status(history_of(A), fresh_db)
    assert result.exit_code == 1
    assert "1 migration found in prisma/migrations\nFollowing migration have not yet been applied:\n" in (
        result.output
    )


def test_failed(fresh_db: str) -> None:
    history = history_of(A, "SELECT * FROM missing;\n")
    migrate_deploy(history, fresh_db)
    result = migrate_status(history, fresh_db)
    assert result.exit_code == 1
    assert result.failed == ["20240101000002_m2"]
    assert "Following migration have failed:\n20240101000002_m2\n" in result.output
    assert result.report == ["Following migration have failed:", "20240101000002_m2"]
    assert 'prisma migrate resolve --rolled-back "20240101000002_m2"' in result.output
    assert 'prisma migrate resolve --applied "20240101000002_m2"' in result.output


def test_edited_is_reported_and_not_in_sync(fresh_db: str) -> None:
    history = history_of(A)
    migrate_deploy(history, fresh_db)
    history.migrations[0] = Migration(history.migrations[0].name, "-- edited\n" + A)
    result = migrate_status(history, fresh_db)
    assert result.exit_code == 1
    assert result.edited == ["20240101000001_m1"]
    assert (
        "WARNING The following migrations have been modified since they were applied:\n20240101000001_m1"
        in (result.output)
    )
    assert "up to date" not in result.output


def test_histories_diverge(fresh_db: str) -> None:
    migrate_deploy(history_of(A, B), fresh_db)
    local = MemoryHistory([Migration("20240101000001_m1", A), Migration("20240101000003_other", B)])
    result = migrate_status(local, fresh_db)
    assert result.exit_code == 1
    assert "Your local migration history and the migrations table from your database are different:" in (
        result.output
    )
    assert "The last common migration is: 20240101000001_m1" in result.output
    assert "The migration have not yet been applied:\n20240101000003_other" in result.output
    assert "from the database are not found locally in prisma/migrations:\n20240101000002_m2" in result.output


def test_empty_database_without_history_is_not_managed(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE legacy (id int)")
    result = migrate_status(MemoryHistory(), fresh_db)
    assert result.exit_code == 1
    assert result.output.startswith(
        "No migration found in prisma/migrations\nThe current database is not managed by Prisma Migrate."
    )


def test_records_read_by_the_caller_give_the_same_status_as_reading_them(fresh_db: str) -> None:
    """The panel reads the table once per view and hands the rows over: same texts, no second read."""
    from sandbox.migrate.table import read_records

    history = history_of(A, "SELECT * FROM missing;\n")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        assert read_records(conn) is None  # no table: not [] (an empty table says something else)
        empty = MemoryHistory([])
        before = migrate_status(empty, fresh_db)
        assert migrate_status(empty, "postgresql://unused", records=None).output == before.output
        assert "not managed by Prisma Migrate" in before.output
        migrate_deploy(history, fresh_db)
        history.add(Migration("20240101000009_c", B))
        records = read_records(conn)
        assert records is not None and len(records) == 2
    read = migrate_status(history, fresh_db)
    given = migrate_status(history, "postgresql://unused", records=records)
    assert (given.output, given.exit_code, given.failed) == (read.output, read.exit_code, read.failed)
    assert given.failed == ["20240101000002_m2"] and given.exit_code == 1
