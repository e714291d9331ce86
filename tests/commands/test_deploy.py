"""`migrate deploy`: pending in order, P3009 after a failure, P3018 with the database error."""

from __future__ import annotations

import psycopg

from sandbox.migrate.commands import migrate_deploy
from sandbox.migrate.history import Migration

from .helpers import history_of, query, relation_exists

USERS = 'CREATE TABLE "User" ("id" SERIAL NOT NULL, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\n'
POSTS = 'CREATE TABLE "Post" ("id" SERIAL NOT NULL, "authorId" INTEGER);\n'


def test_pending_migrations_are_applied_in_order(fresh_db: str) -> None:
    history = history_of(USERS, POSTS)
    result = migrate_deploy(history, fresh_db)
    assert result.exit_code == 0, result.output
    assert result.applied == ["20240101000001_m1", "20240101000002_m2"]
    assert result.pending == []
    assert result.output == (
        "2 migrations found in prisma/migrations\n\n"
        "Applying migration `20240101000001_m1`\n"
        "Applying migration `20240101000002_m2`\n\n"
        "The following migration(s) have been applied:\n\n"
        "migrations/\n  └─ 20240101000001_m1/\n    └─ migration.sql\n"
        "  └─ 20240101000002_m2/\n    └─ migration.sql\n\n"
        "All migrations have been successfully applied.\n"
    )
    names = query(fresh_db, "SELECT migration_name FROM _prisma_migrations ORDER BY started_at")
    assert names == [("20240101000001_m1",), ("20240101000002_m2",)]
    assert relation_exists(fresh_db, "Post")


def test_nothing_pending(fresh_db: str) -> None:
    history = history_of(USERS)
    migrate_deploy(history, fresh_db)
    again = migrate_deploy(history, fresh_db)
    assert again.exit_code == 0
    assert again.applied == []
    assert again.output == "1 migration found in prisma/migrations\n\n\nNo pending migrations to apply.\n"


def test_failure_is_p3018_and_later_migrations_are_not_applied(fresh_db: str) -> None:
    history = history_of(USERS, "CREATE TABLE broken (id int);\nALTER TABLE nope ADD COLUMN x int;\n", POSTS)
    result = migrate_deploy(history, fresh_db)
    assert result.exit_code == 1
    assert result.error_code == "P3018"
    assert result.applied == ["20240101000001_m1"]
    assert result.pending == ["20240101000002_m2", "20240101000003_m3"]
    assert "Error: P3018\n\nA migration failed to apply." in result.output
    assert "Migration name: 20240101000002_m2" in result.output
    assert "Database error code: 42P01" in result.output
    assert 'ERROR: relation "nope" does not exist' in result.output
    # Statements run one by one (Prisma 7.10.1): the first one stays applied; the next file never ran.
    assert relation_exists(fresh_db, "broken")
    assert not relation_exists(fresh_db, "Post")
    rows = query(
        fresh_db,
        "SELECT migration_name, finished_at IS NULL, logs IS NOT NULL FROM _prisma_migrations "
        "ORDER BY started_at",
    )
    assert rows == [("20240101000001_m1", False, False), ("20240101000002_m2", True, True)]


def test_failed_migration_blocks_further_deploys_with_p3009(fresh_db: str) -> None:
    history = history_of(USERS, "ALTER TABLE nope ADD COLUMN x int;\n")
    migrate_deploy(history, fresh_db)
    history.add(Migration("20240101000009_more", POSTS))
    result = migrate_deploy(history, fresh_db)
    assert result.exit_code == 1
    assert result.error_code == "P3009"
    assert result.failed == ["20240101000002_m2"]
    assert (
        "Error: P3009\n\nmigrate found failed migrations in the target database, new migrations will not be "
        "applied. Read more about how to resolve migration issues in a production database: "
        "https://pris.ly/d/migrate-resolve\nThe `20240101000002_m2` migration started at "
    ) in result.output
    assert " UTC failed with the following logs:\nA migration failed to apply." in result.output
    assert not relation_exists(fresh_db, "Post")


def test_edited_migration_is_warned_about_and_deploy_goes_on(fresh_db: str) -> None:
    history = history_of(USERS)
    migrate_deploy(history, fresh_db)
    history.migrations[0] = Migration(history.migrations[0].name, USERS.replace("\n", "\r\n"))
    history.add(Migration("20240101000009_posts", POSTS))
    result = migrate_deploy(history, fresh_db)
    assert result.exit_code == 0
    assert result.edited == ["20240101000001_m1"]
    assert (
        "WARNING The following migrations have been modified since they were applied:\n20240101000001_m1\n"
    ) in result.output
    assert result.applied == ["20240101000009_posts"]


def test_database_not_managed_by_prisma_is_p3005(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE legacy (id int)")
    result = migrate_deploy(history_of(USERS), fresh_db)
    assert result.error_code == "P3005"
    assert "The database schema is not empty." in result.output
    assert not relation_exists(fresh_db, "User")


def test_unreachable_database_is_an_error_not_a_crash() -> None:
    result = migrate_deploy(history_of(USERS), "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert result.exit_code == 1
    assert result.error_code == "P1001"
    assert result.message.startswith("Can't reach the database server.")  # without the `Error: P1001` header
