"""Replicas (or workers) starting together on one PostgreSQL state database: one runs the Alembic
migrations, the others wait for it and find the schema at head, and none fails to start."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg

from app.db.engine import open_state
from sandbox.cluster import EmbeddedCluster


def test_four_processes_migrating_one_new_state_database_all_start(pg_cluster: EmbeddedCluster) -> None:
    name = f"state_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pg_cluster.tcp_url("postgres", pg_cluster.password, name)
    try:
        with ThreadPoolExecutor(4) as pool:
            states = list(pool.map(lambda _: open_state(url), range(4)))  # raises if any migration failed
        for state in states:
            state.dispose()
        with psycopg.connect(pg_cluster.admin_conninfo(name)) as conn:
            assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    finally:
        with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
