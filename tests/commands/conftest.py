"""Fixtures for the migration commands: a shadow database beside `fresh_db`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from sandbox.cluster import EmbeddedCluster


@pytest.fixture
def shadow_db(pg_cluster: EmbeddedCluster) -> Iterator[str]:
    name = f"shadow_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_cluster.admin_conninfo(name)
    with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
