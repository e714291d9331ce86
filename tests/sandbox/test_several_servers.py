"""Several sandbox servers (`MIGRATION_LAB_SANDBOX_URL` with commas): new workspaces go to the least loaded
server that answers, each workspace stays on its server, and a server that is down is skipped for new
workspaces while its learners are told so. Two real clusters: the test session's and one of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from sandbox import SandboxError, SandboxManager, SandboxSettings
from sandbox.cluster import EmbeddedCluster
from sandbox.providers.server import ServerProvider


@pytest.fixture
def second_cluster(tmp_path: Path) -> Iterator[EmbeddedCluster]:
    cluster = EmbeddedCluster.create(tmp_path / "second", name="second")
    cluster.start()
    yield cluster
    cluster.stop(wipe=True)


def url_of(cluster: EmbeddedCluster) -> str:
    return cluster.tcp_url("postgres", cluster.password, "postgres")


@pytest.fixture
def manager(pg_cluster: EmbeddedCluster, second_cluster: EmbeddedCluster) -> Iterator[SandboxManager]:
    url = f"{url_of(pg_cluster)}, {url_of(second_cluster)}"
    settings = SandboxSettings(sandbox="server", sandbox_url=url, sandbox_prefix="tmany", pool_size=0)
    manager = SandboxManager(ServerProvider(url), settings, secret="s")
    manager.start(background=False)
    yield manager
    for info in manager.list_workspaces():
        try:
            manager.drop_workspace(info.id)
        except SandboxError:
            pass  # its server was stopped by the test
    manager.stop()


def port_of(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT current_setting('port')::int").fetchone()
    assert row is not None
    return int(row[0])


def test_new_workspaces_are_spread_over_the_servers(
    manager: SandboxManager, pg_cluster: EmbeddedCluster, second_cluster: EmbeddedCluster
) -> None:
    ports = [port_of(manager.create_workspace().conninfo("dev")) for _ in range(4)]
    assert sorted(ports) == sorted(
        [pg_cluster.port, pg_cluster.port, second_cluster.port, second_cluster.port]
    )
    loads = manager.registry.loads()
    assert sorted(loads.values()) == [2, 2]


def test_a_workspace_stays_on_its_server_when_rebuilt(
    manager: SandboxManager, second_cluster: EmbeddedCluster
) -> None:
    on_second = next(
        ws
        for ws in (manager.create_workspace() for _ in range(2))
        if ws.server.app_port == second_cluster.port
    )
    with psycopg.connect(on_second.conninfo("dev")) as conn:
        conn.execute("CREATE TABLE kept_here (id int)")
    manager.drop_workspace(on_second.id)
    manager.registry.add(on_second.id, "active", f"127.0.0.1:{second_cluster.port}")
    # More workspaces on the first server would make it the less loaded one: the rebuild must not move.
    rebuilt, was_rebuilt = manager.ensure_workspace(on_second.id)
    assert was_rebuilt and rebuilt.server.app_port == second_cluster.port
    assert port_of(rebuilt.conninfo("prod")) == second_cluster.port


def test_a_server_that_is_down_is_skipped_and_its_learners_are_told(
    manager: SandboxManager, pg_cluster: EmbeddedCluster, second_cluster: EmbeddedCluster
) -> None:
    workspaces = [manager.create_workspace() for _ in range(2)]
    stranded = next(ws for ws in workspaces if ws.server.app_port == second_cluster.port)
    stranded.server.close()
    second_cluster.stop(wipe=False)
    fresh = [manager.create_workspace() for _ in range(3)]
    assert {port_of(ws.conninfo("dev")) for ws in fresh} == {pg_cluster.port}
    with pytest.raises(SandboxError, match="does not answer right now. Your work is saved"):
        manager.ensure_workspace(stranded.id)
    second_cluster.start()
    manager._servers.mark_up(stranded.server)  # type: ignore[union-attr]  # the recheck interval, shortened
    again, _ = manager.ensure_workspace(stranded.id)  # a fresh cluster: rebuilt, on its own server again
    assert port_of(again.conninfo("dev")) == second_cluster.port


def test_templates_exist_on_every_server(manager: SandboxManager, second_cluster: EmbeddedCluster) -> None:
    dbname = manager.create_template(
        "tmany_seed", 'CREATE TABLE "Seed" (id int); INSERT INTO "Seed" VALUES (1);'
    )
    try:
        for ws in (manager.create_workspace() for _ in range(2)):
            ws.create_env_from_template("prod", dbname)
            with psycopg.connect(ws.conninfo("prod")) as conn:
                assert conn.execute('SELECT count(*) FROM "Seed"').fetchone() == (1,)
    finally:
        manager.drop_template("tmany_seed")


def test_a_url_naming_one_server_twice_is_refused(pg_cluster: EmbeddedCluster) -> None:
    with pytest.raises(SandboxError, match="names a server twice"):
        ServerProvider(f"{url_of(pg_cluster)},{url_of(pg_cluster)}")
