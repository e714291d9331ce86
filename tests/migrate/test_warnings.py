"""Warnings against real rows, compared with what Prisma printed for the same rows (fixtures' dev.txt)."""

from __future__ import annotations

import psycopg
import pytest

from sandbox.migrate.differ import diff_schemas
from sandbox.migrate.introspection import introspect
from sandbox.migrate.render import render_script
from sandbox.migrate.warnings import check_warnings
from sandbox.prisma import to_sql_schema

from .cases import SEEDED, dev_stderr, read


def checked(conninfo: str, case: str, seed: bool):
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if seed:
            conn.execute(read(case, "seed.sql"))
        target = to_sql_schema(read(case, "after.prisma"))
        steps = diff_schemas(introspect(conn, target.listed), target)
        return steps, check_warnings(steps, conn)


@pytest.mark.parametrize("case", SEEDED)
def test_warnings_with_rows_are_prismas(case_db, case: str) -> None:
    steps, found = checked(case_db(case), case, seed=True)
    assert found.console_text() == dev_stderr(case)
    migration = read(case, "dev.txt").split("### migration.sql\n", 1)[1]
    assert found.file_header() + render_script(steps) == migration


@pytest.mark.parametrize("case", SEEDED)
def test_no_warning_against_empty_tables(case_db, case: str) -> None:
    _, found = checked(case_db(case), case, seed=False)
    # Removing enum values is reported whatever the rows: Prisma does not look at the data for it.
    assert [w for w in found.warnings if "on the enum" not in w] == []
    assert found.unexecutable == []
    migration = read(case, "dev.sql")
    header = migration[: migration.index("*/\n") + 3] if migration.startswith("/*") else ""
    assert found.file_header() == header


def test_counts_come_from_the_rows(case_db) -> None:
    conninfo = case_db("drop_table")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("INSERT INTO \"User\" (email) SELECT 'u' || i FROM generate_series(1, 7) i")
        conn.execute('INSERT INTO "Post" (title, "authorId") SELECT \'t\', 1 FROM generate_series(1, 5)')
        steps = diff_schemas(introspect(conn), to_sql_schema(read("drop_table", "after.prisma")))
        found = check_warnings(steps, conn)
    assert found.warnings == ["You are about to drop the `Post` table, which is not empty (5 rows)."]
    assert found.unexecutable_steps == []


def test_unexecutable_steps_are_numbered_like_prisma(case_db) -> None:
    _, found = checked(case_db("type_string_to_enum"), "type_string_to_enum", seed=True)
    # Step 0 creates the enum; the column change is step 1, as in Prisma's "Step 1 ...".
    assert found.unexecutable_steps == [1]
    assert found.console_text().startswith(
        "\n⚠️ We found changes that cannot be executed:\n\n  • Step 1 Changed"
    )


def test_static_header_only_without_a_database() -> None:
    steps = diff_schemas(
        to_sql_schema(read("make_required", "before.prisma")),
        to_sql_schema(read("make_required", "after.prisma")),
    )
    found = check_warnings(steps, None)
    assert found.warnings == [] and found.unexecutable == [] and found.console_text() == ""
    assert found.file_header() == (
        "/*\n  Warnings:\n\n  - Made the column `name` on table `User` required. "
        "This step will fail if there are existing NULL values in that column.\n\n*/\n"
    )
