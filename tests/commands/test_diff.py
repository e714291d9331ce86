"""`migrate diff` between schemas, as `prisma migrate diff --script` prints it."""

from __future__ import annotations

from sandbox.migrate.commands import diff

SCHEMA = 'datasource db {\n  provider = "postgresql"\n}\n\nmodel User {\n  id Int @id\n}\n'


def test_from_empty_starts_with_create_schema() -> None:
    result = diff(None, SCHEMA)
    assert result.exit_code == 0, result.output
    assert result.sql is not None
    assert result.sql.startswith(
        '-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";\n\n-- CreateTable\nCREATE TABLE "User" ('
    )
    assert result.output.endswith("\n")


def test_no_difference_is_an_empty_migration_and_exit_code_zero() -> None:
    result = diff(SCHEMA, SCHEMA, exit_code=True)
    assert result.exit_code == 0
    assert result.output.strip() == "-- This is an empty migration."


def test_exit_code_two_when_there_is_a_difference() -> None:
    result = diff(SCHEMA, None, exit_code=True)
    assert result.exit_code == 2
    assert 'DROP TABLE "public"."User";' in result.output  # --to-empty qualifies, as Prisma


def test_schema_error_is_reported_with_its_position() -> None:
    result = diff(None, SCHEMA.replace("Int @id", "Int @idd"))
    assert result.exit_code == 1
    assert result.error_code == "P1012"
    assert "schema.prisma:6:" in result.output
