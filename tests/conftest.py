"""Fixtures shared by every test: one real PostgreSQL cluster per test session.

Set MIGRATION_LAB_KEEP_TEST_DBS=1 to keep the databases a test created, for debugging.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from sandbox.cluster import EmbeddedCluster

KEEP_DATABASES = os.environ.get("MIGRATION_LAB_KEEP_TEST_DBS") == "1"


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCluster]:
    cluster = EmbeddedCluster.create(tmp_path_factory.mktemp("pg"), name="tests")
    cluster.start()
    yield cluster
    cluster.stop(wipe=not KEEP_DATABASES)


@pytest.fixture
def fresh_db(pg_cluster: EmbeddedCluster) -> Iterator[str]:
    """An empty database (superuser connection string), dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_cluster.admin_conninfo(name)
    if not KEEP_DATABASES:
        with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
