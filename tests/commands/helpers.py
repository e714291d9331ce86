"""Builders and probes shared by the command tests."""

from __future__ import annotations

import psycopg

from sandbox.migrate.history import MemoryHistory, Migration


def history_of(*scripts: str) -> MemoryHistory:
    """Migrations named 2024010100000N_mN in order."""
    return MemoryHistory([Migration(f"2024010100000{i}_m{i}", sql) for i, sql in enumerate(scripts, 1)])


def query(conninfo: str, sql: str, params: tuple | None = None) -> list[tuple]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def relation_exists(conninfo: str, name: str) -> bool:
    return query(conninfo, "SELECT to_regclass(%s)", (f'"{name}"',))[0][0] is not None
