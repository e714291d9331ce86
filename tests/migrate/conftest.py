"""Databases holding an oracle case's `before` schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

from sandbox.cluster import EmbeddedCluster

from .cases import read

KEEP_DATABASES = os.environ.get("MIGRATION_LAB_KEEP_TEST_DBS") == "1"
NewDatabase = Callable[[str], str]


@pytest.fixture
def case_db(pg_cluster: EmbeddedCluster) -> Iterator[NewDatabase]:
    """`case_db(case)` -> conninfo of a new database where Prisma's from-empty SQL of `before` was applied."""
    names: list[str] = []

    def make(case: str) -> str:
        name = f"o_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        conninfo = pg_cluster.admin_conninfo(name)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(read(case, "before.sql"))
        return conninfo

    yield make
    if not KEEP_DATABASES:
        with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
