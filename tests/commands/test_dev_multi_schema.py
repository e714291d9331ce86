"""`migrate dev` with several database schemas (`schemas = [...]`, `@@schema`): the first migration creates
the schemas the shadow database lacks, every statement is qualified as Prisma qualifies it, drift is seen
in every listed schema, and `_prisma_migrations` stays in `public`. Texts checked against Prisma 7.10.1
(tests/fixtures/oracle/multi_schema_*)."""

from __future__ import annotations

import psycopg

from sandbox.migrate.commands import migrate_deploy, migrate_dev, migrate_reset
from sandbox.migrate.history import MemoryHistory

from .helpers import query

V1 = """datasource db {
  provider = "postgresql"
  schemas  = ["public", "auth"]
}

model Account {
  id    Int    @id @default(autoincrement())
  email String @unique
  role  Role   @default(MEMBER)
  posts Post[]
  @@schema("auth")
}

model Post {
  id        Int     @id @default(autoincrement())
  accountId Int
  account   Account @relation(fields: [accountId], references: [id])
  @@schema("public")
}

enum Role {
  MEMBER
  ADMIN
  GUEST
  @@schema("auth")
}
"""
V2 = V1.replace("  GUEST\n", "").replace("String @unique\n", "String @unique\n  name  String?\n")


def test_first_migration_creates_the_other_schema_and_qualifies_its_objects(
    fresh_db: str, shadow_db: str
) -> None:
    history = MemoryHistory()
    result = migrate_dev(history, fresh_db, shadow_db, V1, name="init")
    assert result.exit_code == 0, result.output
    sql = result.sql or ""
    assert sql.startswith('-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "auth";\n\n-- CreateEnum\n')
    assert 'CREATE SCHEMA IF NOT EXISTS "public"' not in sql
    assert 'CREATE TABLE "auth"."Account" (' in sql and 'CREATE TABLE "Post" (' in sql
    assert '"role" "auth"."Role" NOT NULL DEFAULT \'MEMBER\'' in sql
    assert 'REFERENCES "auth"."Account"("id")' in sql
    assert query(fresh_db, "SELECT to_regclass('auth.\"Account\"') IS NOT NULL")[0][0]
    assert query(fresh_db, "SELECT to_regclass('public._prisma_migrations') IS NOT NULL")[0][0]
    assert query(fresh_db, "SELECT to_regclass('auth._prisma_migrations')")[0][0] is None

    again = migrate_dev(history, fresh_db, shadow_db, V1)
    assert again.output == "Already in sync, no schema change or pending migration was found.\n"

    second = migrate_dev(history, fresh_db, shadow_db, V2, name="change", accept_data_loss=True)
    assert second.exit_code == 0, second.output
    text = second.sql or ""
    assert 'ALTER TYPE "auth"."Role" RENAME TO "Role_old";' in text
    assert 'ALTER TABLE "auth"."Account" ADD COLUMN     "name" TEXT;' in text
    assert query(fresh_db, 'SELECT count(*) FROM auth."Account" WHERE "name" IS NULL') == [(0,)]


def test_drift_in_another_schema_names_every_schema_to_reset(fresh_db: str, shadow_db: str) -> None:
    history = MemoryHistory()
    migrate_dev(history, fresh_db, shadow_db, V1, name="init")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute('ALTER TABLE auth."Account" ADD COLUMN "hotfix" INTEGER')
    result = migrate_dev(history, fresh_db, shadow_db, V2, name="change")
    assert result.exit_code == 130 and result.needs_reset
    assert "[*] Changed the `Account` table" in result.output
    assert '\nWe need to reset the following schemas: "public, auth" at "' in result.output
    assert migrate_reset(history, fresh_db, force=True).exit_code == 0
    assert query(fresh_db, "SELECT to_regclass('auth.\"Account\"') IS NOT NULL")[0][0]
    hotfix = "SELECT count(*) FROM information_schema.columns WHERE column_name = 'hotfix'"
    assert query(fresh_db, hotfix) == [(0,)]


def test_deploy_creates_the_schemas_on_an_empty_database(fresh_db: str, shadow_db: str, pg_cluster) -> None:
    history = MemoryHistory()
    migrate_dev(history, fresh_db, shadow_db, V1, name="init")
    name = "t_deploy_ms"
    with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        target = pg_cluster.admin_conninfo(name)
        assert migrate_deploy(history, target).exit_code == 0
        assert query(target, 'SELECT count(*) FROM auth."Account"') == [(0,)]
    finally:
        with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
