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
    name = _create_database(pg_cluster)
    yield pg_cluster.admin_conninfo(name)
    _drop_database(pg_cluster, name)


def _create_database(cluster: EmbeddedCluster) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop_database(cluster: EmbeddedCluster, name: str) -> None:
    if not KEEP_DATABASES:
        with psycopg.connect(cluster.admin_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def state_database_url(request: pytest.FixtureRequest, pg_cluster: EmbeddedCluster) -> Iterator[str]:
    """The app's own state database, both kinds a deployment may use: `""` (SQLite in the data folder)
    and a fresh PostgreSQL database of the test cluster. App-level tests run once with each."""
    if request.param == "sqlite":
        yield ""
        return
    name = _create_database(pg_cluster)
    yield f"postgresql://{pg_cluster.superuser}@/{name}?host={pg_cluster.socket_dir}&port={pg_cluster.port}"
    _drop_database(pg_cluster, name)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
