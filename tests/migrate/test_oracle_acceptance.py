"""Acceptance against Prisma's own engine (fixtures in tests/fixtures/oracle, see its README).

Per case: our migration text equals Prisma's; applying ours and applying Prisma's to the same starting
database leaves the same catalog; and after applying, the database is in sync with the target schema
(a second `migrate dev` finds nothing to do, except where Prisma's own finds something: see REDONE).
"""

from __future__ import annotations

import re
import subprocess

import psycopg
import pytest

from sandbox.cluster import EmbeddedCluster
from sandbox.migrate.differ import diff_schemas
from sandbox.migrate.introspection import introspect
from sandbox.migrate.render import EMPTY_MIGRATION, render_script
from sandbox.migrate.sqlschema import SqlSchema
from sandbox.migrate.summary import summarize
from sandbox.migrate.warnings import check_warnings
from sandbox.prisma import to_sql_schema

from .cases import CASES, read

# Prisma's schema-to-schema diff of these cases cannot run, or differs from what it does against a
# database; the catalog is compared with its `migrate dev` migration instead.
PRISMA_DIFF_NOT_COMPARABLE = {
    "autoincrement_drop": 'without a database Prisma does not know the sequence name: DROP SEQUENCE ""',
    "multi_schema_create": "schema to schema, Prisma takes the schemas the old datasource lists as "
    "existing (no CREATE SCHEMA); the database holding `before` has none of them",
    "defaults_change_semantics": "schema to schema, Prisma never compares a DateTime literal (a literal "
    "-> now() is no change); against a database it does (the catalog's timestamp is an expression)",
}
# Cases whose schema Prisma migrates again on every `migrate dev` (before == after, so their dev.sql is
# Prisma's second run): defaults its describer cannot read back, a name longer than PostgreSQL keeps.
REDONE = {"defaults_prisma_redoes", "extensions_redone"}
# Cases whose second `migrate dev` is another case's first (Prisma re-creates listed extensions every time:
# its `migrate dev` does not read them back).
SECOND_RUN = {"extensions_citext": "extensions_redone"}
# The summary prints list, DateTime and JSON default values its own way (`Value(Int(ARRAY[1, 2]::...))`
# for Prisma's `Value(List([Int(1), Int(2)]))`); compared with those values masked out.
SUMMARY_VALUE_GAPS = {"defaults_change_semantics"}


def our_migration(conninfo: str, case: str) -> str:
    target = to_sql_schema(read(case, "after.prisma"))
    with psycopg.connect(conninfo) as conn:
        steps = diff_schemas(introspect(conn, target.listed), target)
        return check_warnings(steps, conn).file_header() + render_script(steps)


@pytest.mark.parametrize("case", CASES)
def test_migration_text_is_prismas(case_db, case: str) -> None:
    assert our_migration(case_db(case), case) == read(case, "dev.sql")


@pytest.mark.parametrize("case", CASES)
def test_schema_to_schema_diff_is_prismas(case: str) -> None:
    before, after = (to_sql_schema(read(case, f"{side}.prisma")) for side in ("before", "after"))
    steps = diff_schemas(before, after)
    expected = read(case, "prisma.sql")
    assert render_script(steps) == (
        expected.rstrip("\n") if expected.startswith(EMPTY_MIGRATION) else expected
    )
    summary, expected_summary = (
        "\n".join(summarize(steps)) + "\n",
        read(case, "prisma_summary.txt").lstrip("\n"),
    )
    if case in SUMMARY_VALUE_GAPS:
        summary, expected_summary = (
            re.sub(r"`Some\(Value\(.*?\)\)\)`", "`Some(Value(...))`", text)
            for text in (summary, expected_summary)
        )
    assert summary == expected_summary


@pytest.mark.parametrize("case", CASES)
def test_from_empty_is_prismas(case: str) -> None:
    steps = diff_schemas(SqlSchema(namespaces=[]), to_sql_schema(read(case, "before.prisma")))
    assert render_script(steps) == read(case, "before.sql").rstrip("\n") + "\n" * bool(steps)


@pytest.mark.parametrize("case", CASES)
def test_applied_catalog_equals_prismas(case_db, pg_cluster: EmbeddedCluster, case: str) -> None:
    ours_db, prismas_db = case_db(case), case_db(case)
    ours = our_migration(ours_db, case)
    prismas = read(case, "dev.sql" if case in PRISMA_DIFF_NOT_COMPARABLE else "prisma.sql")
    for conninfo, script in ((ours_db, ours), (prismas_db, prismas)):
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(script)
    ours_dump, prismas_dump = (normalized_dump(pg_cluster, db) for db in (ours_db, prismas_db))
    assert ours_dump == prismas_dump
    assert our_migration(ours_db, case) == prismas_second_run(case)


@pytest.mark.parametrize("case", CASES)
def test_applied_schema_is_in_sync(fresh_db: str, case: str) -> None:
    """Build the `after` schema from empty, read it back: nothing to migrate (defaults in PostgreSQL's
    spelling, names as it stores them), exactly as for Prisma's own second `migrate dev`."""
    steps = diff_schemas(SqlSchema(namespaces=[]), to_sql_schema(read(case, "after.prisma")))
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(render_script(steps))
    assert our_migration(fresh_db, case) == prismas_second_run(case)


def prismas_second_run(case: str) -> str:
    if case in SECOND_RUN:
        return read(SECOND_RUN[case], "dev.sql")
    return read(case, "dev.sql") if case in REDONE else EMPTY_MIGRATION


def normalized_dump(cluster: EmbeddedCluster, conninfo: str) -> list[str]:
    """`pg_dump --schema-only` as sorted statements, without comments, settings, owners and the random
    `\\restrict` keys of recent pg_dump versions."""
    out = subprocess.run(
        [str(cluster.pg_bin / "pg_dump"), "--schema-only", "--no-owner", "--no-privileges", "-d", conninfo],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    skipped = ("--", "SET ", "SELECT pg_catalog.set_config", "\\restrict", "\\unrestrict")
    lines = [line for line in out.splitlines() if line.strip() and not line.startswith(skipped)]
    statements = re.split(r";\n", "\n".join(lines))
    return sorted(s.strip() for s in statements if s.strip())


def test_normalized_dump_sees_a_difference(case_db, pg_cluster: EmbeddedCluster) -> None:
    """The catalog comparison above can fail: one extra column shows in the dump."""
    a, b = case_db("sample_c_add_optional_column"), case_db("sample_c_add_optional_column")
    with psycopg.connect(b, autocommit=True) as conn:
        conn.execute('ALTER TABLE "User" ADD COLUMN "x" INTEGER')
    assert normalized_dump(pg_cluster, a) != normalized_dump(pg_cluster, b)
