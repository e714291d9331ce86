"""The SQL console's runner: statements in order, bounded rows, errors located in the text."""

from __future__ import annotations

import psycopg

from app.panel.sql_console import run_sql, table_counts


def session(conninfo: str) -> psycopg.Connection:
    return psycopg.connect(conninfo, autocommit=True)


def test_every_statement_runs_and_the_last_result_is_shown_bounded(fresh_db: str) -> None:
    outcome = run_sql(
        session(fresh_db),
        "dev",
        'CREATE TABLE "User"(id int, note text);\n'
        'INSERT INTO "User" SELECT g, NULL FROM generate_series(1, 250) g;\n'
        'SELECT * FROM "User" ORDER BY id',
        limit=200,
    )
    assert outcome.error is None
    # PostgreSQL stopped reading past the limit: the count says "more than 200".
    assert outcome.status == ["CREATE TABLE", "INSERT 0 250", "SELECT 200+"]
    assert outcome.columns == ["id", "note"]
    assert len(outcome.rows) == 200 and outcome.truncated
    assert outcome.rows[0] == (1, None)
    assert table_counts(fresh_db)[0].rows == 250


def test_a_postgresql_error_has_its_line_column_and_sqlstate(fresh_db: str) -> None:
    outcome = run_sql(session(fresh_db), "dev", "SELECT 1;\nSELECT  nope FROM pg_class")
    assert outcome.error is not None
    assert outcome.error.message == 'column "nope" does not exist'
    assert outcome.error.sqlstate == "42703"
    assert (outcome.error.line, outcome.error.column) == (2, 9)
    assert outcome.error.source_line == "SELECT  nope FROM pg_class"


def test_small_results_are_not_marked_truncated(fresh_db: str) -> None:
    outcome = run_sql(session(fresh_db), "dev", "SELECT generate_series(1, 3) AS n")
    assert outcome.rows == [(1,), (2,), (3,)] and not outcome.truncated
