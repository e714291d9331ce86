"""Running one migration file as Prisma does, and recording it in `_prisma_migrations`."""

from __future__ import annotations

import time

import psycopg
import pytest

from sandbox.migrate import table
from sandbox.migrate.table import ApplyError, error_position

from .helpers import query, relation_exists


def test_table_has_prismas_exact_columns(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        table.initialize(conn)
    columns = query(
        fresh_db,
        """SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
           FROM information_schema.columns WHERE table_name = '_prisma_migrations'
           ORDER BY ordinal_position""",
    )
    assert columns == [
        ("id", "character varying", 36, "NO", None),
        ("checksum", "character varying", 64, "NO", None),
        ("finished_at", "timestamp with time zone", None, "YES", None),
        ("migration_name", "character varying", 255, "NO", None),
        ("logs", "text", None, "YES", None),
        ("rolled_back_at", "timestamp with time zone", None, "YES", None),
        ("started_at", "timestamp with time zone", None, "NO", "now()"),
        ("applied_steps_count", "integer", None, "NO", "0"),
    ]
    assert query(
        fresh_db,
        "SELECT conname FROM pg_constraint WHERE contype = 'p' AND conrelid = '_prisma_migrations'::regclass",
    ) == [("_prisma_migrations_pkey",)]


def test_initialize_refuses_a_schema_prisma_never_managed(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE legacy (id int)")
        with pytest.raises(table.SchemaNotEmpty) as caught:
            table.initialize(conn)
    assert caught.value.code == "P3005"
    assert not relation_exists(fresh_db, "_prisma_migrations")


def test_successful_migration_is_recorded_finished(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        table.initialize(conn)
        table.apply_migration(conn, "20240101000000_init", "CREATE TABLE a (id int);\n", "c" * 64)
        [record] = table.list_records(conn)
    assert record.migration_name == "20240101000000_init"
    assert record.checksum == "c" * 64
    assert record.finished_at is not None and record.applied and not record.failed
    assert record.applied_steps_count == 1
    assert record.logs is None
    assert len(record.id) == 36


def test_failed_migration_keeps_earlier_statements_and_its_logs(fresh_db: str) -> None:
    script = "-- CreateTable\nCREATE TABLE b (id int);\n\nCREATE TABLE a (id int);\n"
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        table.initialize(conn)
        conn.execute("CREATE TABLE a (id int)")
        with pytest.raises(ApplyError) as caught:
            table.apply_migration(conn, "20240101000000_dup", script, "d" * 64)
        [record] = table.list_records(conn)
    # Each statement committed on its own: the first CREATE TABLE stays after the failure.
    assert relation_exists(fresh_db, "b")
    assert record.failed and record.finished_at is None and record.rolled_back_at is None
    assert record.applied_steps_count == 0
    message = str(caught.value)
    assert message.startswith("A migration failed to apply. New migrations cannot be applied before")
    assert "Migration name: 20240101000000_dup\n\nDatabase error code: 42P07\n\n" in message
    assert 'Database error:\nERROR: relation "a" already exists\n\n' in message
    assert 'DbError { severity: "ERROR", parsed_severity: Some(Error), code: SqlState(E42P07), ' in message
    assert 'message: "relation \\"a\\" already exists"' in message
    assert record.logs == message


def test_error_position_is_shown_with_numbered_lines(fresh_db: str) -> None:
    script = "-- AlterTable\nSELECT 1;\nSELEC 2;\n"
    with psycopg.connect(fresh_db, autocommit=True) as conn, pytest.raises(ApplyError) as caught:
        table.run_script(conn, "m", script)
    assert caught.value.database_error_code == "42601"
    expected = (
        'ERROR: syntax error at or near "SELEC"\n\n'
        "Position:\n  0\n  1 -- AlterTable\n  2 SELECT 1;\n  3 SELEC 2;"
    )
    assert expected in caught.value.database_error
    assert "position: Some(Original(25))" in caught.value.database_error


def test_error_position_keeps_only_five_previous_lines() -> None:
    script = "\n".join(f"l{i}" for i in range(1, 10))
    assert error_position(script, script.index("l8") + 1) == (
        "\n\nPosition:\n  3 l3\n  4 l4\n  5 l5\n  6 l6\n  7 l7\n  8 l8"
    )


def test_concurrently_alone_runs_outside_a_transaction(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        table.initialize(conn)
        conn.execute("CREATE TABLE a (id int)")
        script = "-- CreateIndex\nCREATE INDEX CONCURRENTLY a_id_idx ON a(id);\n"
        table.apply_migration(conn, "m", script, "e" * 64)
    assert relation_exists(fresh_db, "a_id_idx")


def test_concurrently_beside_other_statements_runs_statement_by_statement(fresh_db: str) -> None:
    script = "CREATE TABLE b (id int);\n-- CreateIndex\nCREATE INDEX CONCURRENTLY b_id_idx ON b(id);\n"
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        table.initialize(conn)
        table.apply_migration(conn, "m", script, "f" * 64)
        [record] = table.list_records(conn)
    assert relation_exists(fresh_db, "b") and relation_exists(fresh_db, "b_id_idx")
    assert record.applied and record.applied_steps_count == 1  # one step per file, not per statement


def test_drop_index_concurrently_beside_others_is_one_batch_like_prisma(fresh_db: str) -> None:
    # Prisma 7.10.1's parser cannot read DROP INDEX CONCURRENTLY (prisma-engines #5847): one batch, 25001.
    script = "CREATE TABLE b (id int);\nDROP INDEX CONCURRENTLY IF EXISTS nothing_idx;\n"
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        table.initialize(conn)
        with pytest.raises(ApplyError) as caught:
            table.apply_migration(conn, "m", script, "f" * 64)
        [record] = table.list_records(conn)
    assert caught.value.database_error_code == "25001"
    assert "DROP INDEX CONCURRENTLY cannot run inside a transaction block" in str(caught.value)
    assert not relation_exists(fresh_db, "b")  # the batch was one implicit transaction
    assert record.failed and record.applied_steps_count == 0


def test_script_the_parser_cannot_read_runs_as_one_batch(fresh_db: str) -> None:
    script = "CREATE TABLE b (id int);\nCREATE TABLE c (id int;\n"
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        table.initialize(conn)
        with pytest.raises(ApplyError) as caught:
            table.apply_migration(conn, "m", script, "f" * 64)
    assert caught.value.database_error_code == "42601"
    assert not relation_exists(fresh_db, "b")
    assert "  2 CREATE TABLE c (id int;" in caught.value.database_error


def test_begin_commit_in_a_file_is_one_transaction_across_statements(fresh_db: str) -> None:
    script = "BEGIN;\nCREATE TABLE t1 (id int);\nSELECT missing FROM t1;\nCOMMIT;\n"
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        table.initialize(conn)
        with pytest.raises(ApplyError) as caught:
            table.apply_migration(conn, "m", script, "f" * 64)
        [record] = table.list_records(conn)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert caught.value.database_error_code == "42703"
    assert not relation_exists(fresh_db, "t1")
    assert record.failed and record.logs == str(caught.value)
    # The position points into the file, not into the statement sent.
    assert "  2 CREATE TABLE t1 (id int);\n  3 SELECT missing FROM t1;" in caught.value.database_error


def test_explicit_commit_inside_a_file_keeps_what_postgres_committed(fresh_db: str) -> None:
    script = "BEGIN;\nCREATE TABLE kept (id int);\nCOMMIT;\nCREATE TABLE kept (id int);\n"
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        table.initialize(conn)
        with pytest.raises(ApplyError):
            table.apply_migration(conn, "m", script, "0" * 64)
    assert relation_exists(fresh_db, "kept")


def test_a_failed_deploy_gives_its_failure_as_data_now_and_from_the_logs_later(fresh_db: str) -> None:
    from sandbox.migrate import MemoryHistory, Migration, failure_of_logs, list_records, migrate_deploy

    history = MemoryHistory([
        Migration("20240101000000_init", 'CREATE TABLE "User" (id INT PRIMARY KEY, name TEXT);\n'),
        Migration("20240102000000_bad", 'ALTER TABLE "User" ADD COLUMN nick TEXT;\nSELEC 1;\n'),
    ])  # fmt: skip
    result = migrate_deploy(history, fresh_db)
    assert result.exit_code == 1 and result.failure is not None
    failure = result.failure
    assert (failure.code, failure.migration, failure.db_code) == ("P3018", "20240102000000_bad", "42601")
    assert failure.message.startswith('ERROR: syntax error at or near "SELEC"')
    assert failure.statement.endswith("SELEC 1;")
    with psycopg.connect(fresh_db) as conn:
        failed = next(r for r in list_records(conn) if r.finished_at is None)
    stored = failure_of_logs(failed.logs)
    assert (stored.migration, stored.db_code, stored.message) == (failure.migration, "42601", failure.message)
    assert migrate_deploy(history, fresh_db).failure.code == "P3009"  # the failed one blocks the next deploy


def test_the_migrate_lock_is_held_by_the_session_and_leaves_its_settings_alone(fresh_db: str) -> None:
    with (
        psycopg.connect(fresh_db, autocommit=True) as conn,
        psycopg.connect(fresh_db, autocommit=True) as other,
    ):
        conn.execute("SET lock_timeout = '3s'")
        table.lock(conn)
        assert conn.execute("SHOW lock_timeout").fetchone() == ("3s",)  # the caller's own, as it was
        holder = other.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted",
            (table.ADVISORY_LOCK_KEY,),
        ).fetchone()
        assert holder == (conn.info.backend_pid,)
        assert other.execute("SELECT pg_try_advisory_lock(%s)", (table.ADVISORY_LOCK_KEY,)).fetchone() == (
            False,
        )


def test_the_migrate_lock_waits_at_most_ten_seconds_as_prismas_does(fresh_db: str) -> None:
    with (
        psycopg.connect(fresh_db, autocommit=True) as holder,
        psycopg.connect(fresh_db, autocommit=True) as conn,
    ):
        holder.execute("SELECT pg_advisory_lock(%s)", (table.ADVISORY_LOCK_KEY,))
        started = time.monotonic()
        with pytest.raises(psycopg.errors.LockNotAvailable):
            table.lock(conn)
        assert 9 < time.monotonic() - started < 20
        assert conn.execute("SHOW lock_timeout").fetchone() == ("0",)  # taken back with the failed query
