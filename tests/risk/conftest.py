"""A source database with rows, shared by the risk tests; each test traces on its own copy of it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from sandbox.cluster import EmbeddedCluster

SOURCE_SQL = """
CREATE TABLE "User" (
  "id" INTEGER PRIMARY KEY, "email" VARCHAR(50), "name" VARCHAR(50) NOT NULL, "score" INTEGER
);
CREATE TABLE "Post" ("id" INTEGER PRIMARY KEY, "authorId" INTEGER, "title" TEXT);
INSERT INTO "User" SELECT i, 'u' || i || '@x.io', 'user ' || i, i % 7 FROM generate_series(1, 2000) i;
INSERT INTO "Post" SELECT i, 1 + i % 2000, 'post ' || i FROM generate_series(1, 3000) i;
ANALYZE;
"""


def snapshot(conninfo: str) -> list[tuple]:
    """Everything a migration could change: columns, constraints, indexes, relfilenodes and row counts."""
    with psycopg.connect(conninfo) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable,"
            " column_default FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2"
        ).fetchall()
        relations = conn.execute(
            "SELECT relname, relkind, relfilenode FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            " ORDER BY 1"
        ).fetchall()
        constraints = conn.execute(
            "SELECT conname, contype, convalidated FROM pg_constraint"
            " WHERE connamespace = 'public'::regnamespace ORDER BY 1"
        ).fetchall()
        rows = conn.execute('SELECT (SELECT count(*) FROM "User"), (SELECT count(*) FROM "Post")').fetchall()
    return columns + relations + constraints + rows


@pytest.fixture(scope="module")
def source_db(pg_cluster: EmbeddedCluster) -> Iterator[str]:
    name = f"risk_src_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    conninfo = pg_cluster.admin_conninfo(name)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(SOURCE_SQL)
    yield conninfo
    with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
