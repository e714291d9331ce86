"""`migrate dev`: shadow replay, drift, pending, new migration, warnings, create-only, P3006."""

from __future__ import annotations

import re

import psycopg
import pytest

from sandbox.migrate.commands import diff, migrate_deploy, migrate_dev, migrate_reset, migrate_status
from sandbox.migrate.history import MemoryHistory, Migration

from .helpers import query, relation_exists

HEAD = 'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n\n'
V1 = HEAD + (
    "model User {\n  id    Int    @id @default(autoincrement())\n  email String @unique\n  name  String?\n}\n"
)
V2 = V1.replace("  name  String?\n", "  name  String?\n  age   Int?\n")
NO_NAME = V1.replace("  name  String?\n", "")
REQUIRED_AGE = V1.replace("  name  String?\n", "  name  String?\n  age   Int\n")


def dev(history: MemoryHistory, db: str, shadow: str, schema: str, **options):
    return migrate_dev(history, db, shadow, schema, **options)


def test_first_migration_is_created_and_applied(fresh_db: str, shadow_db: str) -> None:
    received: list[Migration] = []
    history = MemoryHistory(on_add=received.append)
    result = dev(history, fresh_db, shadow_db, V1, name="init")
    assert result.exit_code == 0, result.output
    created = result.created_migration
    assert created is not None and received == [created]
    assert re.fullmatch(r"\d{14}_init", created.name)
    # Same SQL as `migrate diff --from-empty`, without the CREATE SCHEMA preamble.
    assert created.sql == diff(None, V1).sql.replace(
        '-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";\n\n', ""
    )
    assert result.sql == created.sql
    assert result.applied == [created.name]
    assert result.output == (
        f"Applying migration `{created.name}`\n\n"
        "The following migration(s) have been created and applied from new schema changes:\n\n"
        f"prisma/migrations/\n  └─ {created.name}/\n    └─ migration.sql\n\n"
        "Your database is now in sync with your schema.\n"
    )
    assert relation_exists(fresh_db, "User")
    assert query(fresh_db, "SELECT migration_name, checksum FROM _prisma_migrations") == [
        (created.name, created.checksum)
    ]
    again = dev(history, fresh_db, shadow_db, V1)
    assert again.exit_code == 0
    assert again.created_migration is None
    assert again.output == "Already in sync, no schema change or pending migration was found.\n"


def test_create_only_then_apply(fresh_db: str, shadow_db: str) -> None:
    history = MemoryHistory()
    dev(history, fresh_db, shadow_db, V1, name="init")
    draft = dev(history, fresh_db, shadow_db, V2, name="add age", create_only=True)
    assert draft.exit_code == 0, draft.output
    assert draft.created_migration is not None and draft.applied == []
    name = draft.created_migration.name
    assert name.endswith("_add_age")
    assert draft.output == (
        f"Prisma Migrate created the following migration without applying it {name}\n\n"
        "You can now edit it and apply it by running prisma migrate dev.\n"
    )
    assert 'ADD COLUMN     "age" INTEGER' in draft.created_migration.sql
    assert migrate_status(history, fresh_db).pending == [name]
    # The learner edits the draft (a backfill, say) before applying it.
    history.migrations[-1] = Migration(name, draft.created_migration.sql + '\nUPDATE "User" SET age = 1;\n')
    applied = dev(history, fresh_db, shadow_db, V2)
    assert applied.exit_code == 0, applied.output
    assert applied.applied == [name] and applied.created_migration is None
    assert "The following migration(s) have been applied:\n\nmigrations/\n" in applied.output
    assert applied.output.endswith("Your database is now in sync with your schema.\n")
    assert migrate_status(history, fresh_db).exit_code == 0


def test_create_only_without_changes_writes_an_empty_migration(fresh_db: str, shadow_db: str) -> None:
    history = MemoryHistory()
    dev(history, fresh_db, shadow_db, V1, name="init")
    result = dev(history, fresh_db, shadow_db, V1, name="backfill", create_only=True)
    assert result.created_migration is not None
    assert result.created_migration.sql.strip() == "-- This is an empty migration."


def test_drift_asks_for_a_reset(fresh_db: str, shadow_db: str) -> None:
    history = MemoryHistory()
    dev(history, fresh_db, shadow_db, V1, name="init")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute('ALTER TABLE "User" ADD COLUMN "hotfix" INTEGER')
    result = dev(history, fresh_db, shadow_db, V2, name="age")
    assert result.exit_code == 130
    assert result.needs_reset and result.created_migration is None
    assert result.output.startswith(
        "Drift detected: Your database schema is not in sync with your migration history.\n\n"
    )
    assert "[*] Changed the `User` table" in result.output
    assert "[+] Added column `hotfix`" in result.output
    assert result.drift and any("hotfix" in line for line in result.drift)
    assert '\nWe need to reset the "public" schema at "' in result.output
    assert result.output.endswith(
        "You may use prisma migrate reset to drop the development database.\nAll data will be lost.\n"
    )
    assert len(history.list()) == 1
    assert migrate_reset(history, fresh_db, force=True).exit_code == 0
    after = dev(history, fresh_db, shadow_db, V2, name="age")
    assert after.exit_code == 0, after.output
    assert after.created_migration is not None


def test_edited_and_failed_migrations_ask_for_a_reset(fresh_db: str, shadow_db: str) -> None:
    history = MemoryHistory()
    first = dev(history, fresh_db, shadow_db, V1, name="init").created_migration
    assert first is not None
    history.migrations[0] = Migration(first.name, first.sql + "\n-- a comment is an edit\n")
    edited = dev(history, fresh_db, shadow_db, V1)
    assert edited.exit_code == 130
    assert f"The migration `{first.name}` was modified after it was applied." in edited.output

    history.migrations[0] = first
    history.add(Migration("29990101000000_broken", "SELECT 1/0;\n"))
    assert migrate_deploy(history, fresh_db).error_code == "P3018"
    history.migrations.pop()
    history.add(Migration("29990101000000_broken", "SELECT 1;\n"))
    failed = dev(history, fresh_db, shadow_db, V1)
    assert failed.exit_code == 130
    assert "- The migration `29990101000000_broken` failed.\n" in failed.output
    assert "- The migration `29990101000000_broken` was modified after it was applied.\n" in failed.output


def test_history_that_does_not_replay_is_p3006(fresh_db: str, shadow_db: str) -> None:
    history = MemoryHistory([Migration("20240101000000_bad", 'ALTER TABLE "Nope" ADD COLUMN x INT;\n')])
    result = dev(history, fresh_db, shadow_db, V1)
    assert result.exit_code == 1
    assert result.error_code == "P3006"
    assert (
        "Error: P3006\n\nMigration `20240101000000_bad` failed to apply cleanly to the shadow database. \n"
        "Error code: P3018\nError:\nA migration failed to apply." in result.output
    )
    assert 'ERROR: relation "Nope" does not exist' in result.output


def test_pending_migrations_are_applied_before_the_new_one(fresh_db: str, shadow_db: str) -> None:
    history = MemoryHistory()
    dev(history, fresh_db, shadow_db, V1, name="init", create_only=True)
    result = dev(history, fresh_db, shadow_db, V2, name="age")
    assert result.exit_code == 0, result.output
    assert len(result.applied) == 2
    assert result.output.index("The following migration(s) have been applied:") < result.output.index(
        "created and applied from new schema changes"
    )


def test_data_loss_needs_confirmation(fresh_db: str, shadow_db: str) -> None:
    history = MemoryHistory()
    dev(history, fresh_db, shadow_db, V1, name="init")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("""INSERT INTO "User" (email, name) VALUES ('a@x', 'Ada')""")
    asked = dev(history, fresh_db, shadow_db, NO_NAME, name="drop name")
    assert asked.needs_confirmation and asked.exit_code == 1
    assert asked.created_migration is None and len(history.list()) == 1
    assert asked.warnings == [
        "You are about to drop the column `name` on the `User` table, which still contains 1 non-null values."
    ]
    assert "⚠️  Warnings for the current datasource:" in asked.output
    assert asked.output.endswith("Are you sure you want to create and apply this migration?\n")
    assert asked.sql is not None and asked.sql.startswith("/*\n  Warnings:\n")
    accepted = dev(history, fresh_db, shadow_db, NO_NAME, name="drop name", accept_data_loss=True)
    assert accepted.exit_code == 0, accepted.output
    assert accepted.created_migration is not None
    assert accepted.created_migration.sql.startswith(
        "/*\n  Warnings:\n\n  - You are about to drop the column `name` on the `User` table. "
        "All the data in the column will be lost.\n\n*/\n"
    )
    columns = query(fresh_db, "SELECT column_name FROM information_schema.columns WHERE table_name = 'User'")
    assert sorted(columns) == [("email",), ("id",)]


def test_unexecutable_step_is_refused_unless_create_only(fresh_db: str, shadow_db: str) -> None:
    history = MemoryHistory()
    dev(history, fresh_db, shadow_db, V1, name="init")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("""INSERT INTO "User" (email) VALUES ('a@x')""")
    refused = dev(history, fresh_db, shadow_db, REQUIRED_AGE, name="age", accept_data_loss=True)
    assert refused.exit_code == 1 and refused.created_migration is None
    assert refused.unexecutable and "There are 1 rows in this table" in refused.unexecutable[0]
    assert "⚠️ We found changes that cannot be executed:" in refused.output
    assert "You can use prisma migrate dev --create-only to create the migration file" in refused.output
    draft = dev(history, fresh_db, shadow_db, REQUIRED_AGE, name="age", create_only=True)
    assert draft.exit_code == 0, draft.output
    assert draft.created_migration is not None
    assert "This is not possible if the table is not empty." in draft.created_migration.sql


def test_schema_error_names_line_and_column(fresh_db: str, shadow_db: str) -> None:
    result = dev(MemoryHistory(), fresh_db, shadow_db, V1.replace("String @unique", "Strnig @unique"))
    assert result.exit_code == 1 and result.error_code == "P1012"
    assert re.search(r"schema\.prisma:8:\d+", result.output), result.output
    assert "Strnig" in result.output


def test_shadow_is_reused_while_the_history_only_grows(fresh_db: str, shadow_db: str) -> None:
    history = MemoryHistory()
    dev(history, fresh_db, shadow_db, V1, name="init")
    dev(history, fresh_db, shadow_db, V1)
    with psycopg.connect(shadow_db, autocommit=True) as conn:
        conn.execute("""INSERT INTO "User" (email) VALUES ('marker@shadow')""")
    dev(history, fresh_db, shadow_db, V2, name="age")
    dev(history, fresh_db, shadow_db, V2)
    # Replayed incrementally: the marker row survived two more runs.
    assert query(shadow_db, 'SELECT email FROM "User"') == [("marker@shadow",)]
    # A history that is not an extension of the replayed one resets the shadow.
    other = MemoryHistory([Migration(m.name, m.sql + "\n") for m in history.list()])
    dev(other, fresh_db, shadow_db, V2)
    assert query(shadow_db, 'SELECT email FROM "User"') == []


@pytest.mark.parametrize("create_only", [False, True])
def test_migration_names_keep_increasing(fresh_db: str, shadow_db: str, create_only: bool) -> None:
    history = MemoryHistory()
    names = []
    for schema in (V1, V2):
        result = dev(history, fresh_db, shadow_db, schema, name="step", create_only=create_only)
        assert result.created_migration is not None, result.output
        names.append(result.created_migration.name)
        if create_only:
            dev(history, fresh_db, shadow_db, schema)
    assert names == sorted(names) and names[0] != names[1]


def test_existing_database_without_history_is_drift_with_prismas_first_time_hint(
    fresh_db: str, shadow_db: str
) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE legacy (id int PRIMARY KEY)")
    result = dev(MemoryHistory(), fresh_db, shadow_db, V1, name="init")
    assert result.exit_code == 130 and result.needs_reset
    assert "If you are running this the first time on an existing database" in result.output
    assert "[+] Added tables\n  - legacy\n" in result.output
