"""Processes sharing a sandbox server (workers, replicas): exactly one runs the warm pool and the reaper,
and another takes over when it stops."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from sandbox import SandboxManager, SandboxSettings
from sandbox.cluster import EmbeddedCluster
from sandbox.providers.server import ServerProvider


def manager_on(url: str) -> SandboxManager:
    settings = SandboxSettings(sandbox="server", sandbox_url=url, sandbox_prefix="tlead", pool_size=0)
    return SandboxManager(ServerProvider(url), settings, secret="s")


@pytest.fixture
def managers(pg_cluster: EmbeddedCluster) -> Iterator[tuple[SandboxManager, SandboxManager]]:
    """Two processes' managers on one server, started in this order (the first leads), stopped after."""
    url = pg_cluster.tcp_url("postgres", pg_cluster.password, "postgres")
    first, second = manager_on(url), manager_on(url)
    first.start(background=False)
    second.start(background=False)
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def test_one_leader_at_a_time_and_a_successor_when_it_stops(managers) -> None:
    first, second = managers
    assert first.leads() and not second.leads()
    assert first.leads() and not second.leads()  # asking again changes nothing
    first.stop()
    assert second.leads()


def test_a_leader_whose_connection_was_killed_is_replaced(managers, pg_cluster: EmbeddedCluster) -> None:
    first, second = managers
    assert first.leads()
    with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND classid = %s::oid",
            (0x4D4C5344,),
        )
    assert second.leads()
    assert not first.leads()  # its connection is gone, and the lock is someone else's now


def test_a_process_that_does_not_lead_asks_again_on_the_same_session(
    managers, pg_cluster: EmbeddedCluster
) -> None:
    """Every process asks before each round of background work: a new connection at each ask was a few new
    PostgreSQL backends a second for as long as a deployment runs."""
    first, second = managers
    assert first.leads() and not second.leads()
    with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
        count = "SELECT sum(sessions) FROM pg_stat_database"
        before = conn.execute(count).fetchone()
        for _ in range(5):
            assert first.leads() and not second.leads()
        assert conn.execute(count).fetchone() == before
    first.stop()
    assert second.leads()  # on the session it kept for asking
