"""`migration-lab migrate …` and `migration-lab diff` end to end on a folder in a temporary directory."""

from __future__ import annotations

import io
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from app.cli import main

from .helpers import query, relation_exists

SCHEMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id    Int    @id @default(autoincrement())
  email String @unique
}
"""


def write_migration(root: Path, name: str, sql: str) -> None:
    folder = root / "prisma" / "migrations" / name
    folder.mkdir(parents=True)
    (folder / "migration.sql").write_text(sql)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "prisma").mkdir()
    (tmp_path / "prisma" / "schema.prisma").write_text(SCHEMA)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO())  # not a terminal: no prompt
    return tmp_path


def test_deploy_status_resolve_reset_on_a_folder(
    project: Path, fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write_migration(project, "20240101000000_init", "CREATE TABLE a (id int);\n")
    assert main(["migrate", "status", "--url", fresh_db]) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        'Prisma schema loaded from prisma/schema.prisma\nDatasource "db": PostgreSQL database'
    )
    assert "Following migration have not yet been applied:\n20240101000000_init" in out

    assert main(["migrate", "deploy", "--url", fresh_db]) == 0
    assert "All migrations have been successfully applied." in capsys.readouterr().out
    assert main(["migrate", "status", "--url", fresh_db]) == 0
    assert "Database schema is up to date!" in capsys.readouterr().out

    write_migration(project, "20240102000000_broken", "CREATE TABLE b (id int);\nSELECT 1/0;\n")
    assert main(["migrate", "deploy", "--url", fresh_db]) == 1
    err = capsys.readouterr().err
    assert "Error: P3018" in err and "Database error code: 22012" in err
    assert relation_exists(fresh_db, "b")  # statement by statement: the first one stayed applied
    assert main(["migrate", "deploy", "--url", fresh_db]) == 1
    assert "Error: P3009" in capsys.readouterr().err

    assert main(["migrate", "resolve", "--rolled-back", "20240102000000_broken", "--url", fresh_db]) == 0
    assert "Migration 20240102000000_broken marked as rolled back." in capsys.readouterr().out
    (project / "prisma/migrations/20240102000000_broken/migration.sql").write_text(
        "CREATE TABLE IF NOT EXISTS b (id int);\n"
    )
    assert main(["migrate", "deploy", "--url", fresh_db]) == 0
    assert relation_exists(fresh_db, "b")
    capsys.readouterr()

    assert main(["migrate", "reset", "--url", fresh_db]) == 1
    assert "Use --force to run this command without user interaction." in capsys.readouterr().err
    assert main(["migrate", "reset", "--force", "--url", fresh_db]) == 0
    assert "Database reset successful" in capsys.readouterr().out
    assert query(fresh_db, "SELECT count(*) FROM _prisma_migrations") == [(2,)]


def test_database_url_comes_from_the_environment(
    project: Path, fresh_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_db)
    assert main(["migrate", "deploy"]) == 0
    assert "No migration found in prisma/migrations" in capsys.readouterr().out
    monkeypatch.delenv("DATABASE_URL")
    assert main(["migrate", "deploy"]) == 1
    assert "Environment variable not found: DATABASE_URL." in capsys.readouterr().err


def test_schema_option_points_at_another_folder(
    project: Path, fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    other = project / "db"
    (other / "migrations" / "20240101000000_x").mkdir(parents=True)
    (other / "migrations" / "20240101000000_x" / "migration.sql").write_text("CREATE TABLE x (id int);\n")
    assert main(["migrate", "deploy", "--schema", str(other / "schema.prisma"), "--url", fresh_db]) == 0
    assert relation_exists(fresh_db, "x")


def test_diff_needs_two_sources(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "--from-empty"]) == 1
    assert "expected 1 schema file(s), got 0" in capsys.readouterr().err
    assert main(["diff", "--from-empty", "nothere.prisma"]) == 1
    assert "Could not find the schema file nothere.prisma" in capsys.readouterr().err


def test_dev_on_a_folder_with_a_temporary_shadow(
    project: Path, fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "dev", "--name", "init", "--url", fresh_db]) == 0
    out = capsys.readouterr().out
    assert "The following migration(s) have been created and applied from new schema changes:" in out
    [folder] = [p for p in (project / "prisma/migrations").iterdir() if p.is_dir()]
    assert folder.name.endswith("_init")
    assert 'CREATE TABLE "User"' in (folder / "migration.sql").read_text()
    assert (
        (project / "prisma/migrations/migration_lock.toml").read_text().endswith('provider = "postgresql"\n')
    )
    # Prisma's temporary shadow database is gone again.
    assert (
        query(fresh_db, "SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'")
        == []
    )

    assert main(["migrate", "dev", "--url", fresh_db]) == 0
    assert "Already in sync, no schema change or pending migration was found." in capsys.readouterr().out

    query(fresh_db, """INSERT INTO "User" (email) VALUES ('a@x') RETURNING id""")
    (project / "prisma/schema.prisma").write_text(SCHEMA.replace("  email String @unique\n", ""))
    assert main(["migrate", "dev", "--name", "drop email", "--url", fresh_db]) == 1
    captured = capsys.readouterr()
    assert "You are about to drop the column `email` on the `User` table" in captured.out
    assert "Prisma Migrate has detected that the environment is non-interactive" in captured.err
    assert len([p for p in (project / "prisma/migrations").iterdir() if p.is_dir()]) == 1

    assert main(["diff", "--from-empty", "prisma/schema.prisma"]) == 0
    assert capsys.readouterr().out.startswith('-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";')


def test_dev_reports_schema_errors_with_line_and_column(
    project: Path, fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "prisma/schema.prisma").write_text(SCHEMA.replace("String @unique", "Strnig @unique"))
    assert main(["migrate", "dev", "--url", fresh_db]) == 1
    err = capsys.readouterr().err
    assert "Error: P1012" in err and "schema.prisma:8:" in err and "Strnig" in err


def test_shadow_that_cannot_be_created_is_p3014(
    project: Path, fresh_db: str, pg_cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS no_createdb")
        conn.execute("CREATE ROLE no_createdb LOGIN NOCREATEDB")
        conn.execute("GRANT ALL ON SCHEMA public TO no_createdb")
    url = make_conninfo(fresh_db, user="no_createdb")
    try:
        assert main(["migrate", "dev", "--url", url]) == 1
        err = capsys.readouterr().err
        assert "P3014" in err and "Prisma Migrate could not create the shadow database." in err
        assert "permission denied to create database" in err
    finally:
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            conn.execute("DROP OWNED BY no_createdb")
            conn.execute("DROP ROLE no_createdb")
