"""The SQL console's runner bounds results in the database: huge values, many rows and many bytes never
reach this process whole; statements keep psql's meaning (each on its own, transactions, SHOW, EXPLAIN)."""

from __future__ import annotations

from pathlib import Path

import psycopg

from sandbox.bounded import Bounds, run_script


def run(conninfo: str, script: str, **bounds: int):
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return run_script(conn, script, Bounds(**bounds))


def peak_rss_reset() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux)


def peak_rss_mb() -> float:
    line = next(ln for ln in Path("/proc/self/status").read_text().splitlines() if ln.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def test_a_result_of_900_mb_never_enters_this_process(fresh_db: str) -> None:
    peak_rss_reset()
    before = peak_rss_mb()
    result = run(fresh_db, "SELECT repeat('x', 300000000) AS big FROM generate_series(1, 3)")
    assert result.error is None
    assert result.columns == ["big"] and len(result.rows) == 3
    assert result.rows[0][0] == "x" * 500 + "…" and result.cut_cells
    assert peak_rss_mb() - before < 50  # the whole result would be 900 MB


def test_rows_stop_at_the_limit_and_the_count_says_more(fresh_db: str) -> None:
    result = run(fresh_db, "SELECT g FROM generate_series(1, 100000000) g", max_rows=10)
    assert [r[0] for r in result.rows] == list(range(1, 11))
    assert result.cut_rows and result.statuses == ["SELECT 10+"]


def test_rows_stop_at_the_byte_budget(fresh_db: str) -> None:
    result = run(fresh_db, "SELECT repeat('y', 400) FROM generate_series(1, 100)", max_bytes=10_000)
    assert 20 <= len(result.rows) <= 30 and result.cut_bytes and not result.cut_rows


def test_a_data_change_with_returning_changes_every_row_and_counts_them(fresh_db: str) -> None:
    result = run(
        fresh_db,
        "CREATE TABLE t (id int, note text);\n"
        "INSERT INTO t SELECT g, repeat('n', 2000) FROM generate_series(1, 50) g RETURNING id, note",
        max_rows=5,
    )
    assert result.error is None
    assert result.statuses == ["CREATE TABLE", "INSERT 0 50"]
    assert len(result.rows) == 5 and result.cut_rows and result.cut_cells
    assert run(fresh_db, "SELECT count(*) FROM t").rows == [(50,)]


def test_psql_meaning_is_kept(fresh_db: str) -> None:
    script = (
        "BEGIN; CREATE TABLE a (x int); INSERT INTO a VALUES (1), (2); COMMIT;\n"
        "WITH gone AS (DELETE FROM a WHERE x = 1 RETURNING x) SELECT * FROM gone;\n"
        "SHOW statement_timeout;"
    )
    result = run(fresh_db, script)
    assert result.error is None
    assert result.columns == ["statement_timeout"]
    assert result.statuses[:4] == ["BEGIN", "CREATE TABLE", "INSERT 0 2", "COMMIT"]
    explain = run(fresh_db, "EXPLAIN SELECT * FROM a")
    assert explain.columns == ["QUERY PLAN"] and explain.rows
    assert run(fresh_db, "SELECT x, x, 'a'::text FROM a").rows == [(2, 2, "a")]  # same names twice


def test_errors_keep_their_position_in_the_script(fresh_db: str) -> None:
    script = "SELECT 1;\nSELECT  nope FROM pg_class"
    result = run(fresh_db, script)
    assert result.error is not None and result.error_position == script.index("nope") + 1
    syntax = "SELECT 1;\nSELEC 2"
    result = run(fresh_db, syntax)
    assert result.error is not None and result.error_position == syntax.index("SELEC 2") + 1
    assert result.statuses == []  # a script that does not parse runs nothing
