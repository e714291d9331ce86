"""With several sandbox servers, an exercise workspace on any of them starts from the exercise's seeded
templates (PostgreSQL copies a database only from a template on its own server), and comes back from them
after a rebuild: two learners, one on each of two real clusters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from sandbox import SandboxManager, SandboxSettings
from sandbox.cluster import EmbeddedCluster
from sandbox.providers.server import ServerProvider
from tests.exercises.app_helpers import Learner
from tests.exercises.test_exercise_rebuild import DEPLOY


@pytest.fixture
def two_servers(pg_cluster: EmbeddedCluster, tmp_path: Path) -> Iterator[SandboxManager]:
    second = EmbeddedCluster.create(tmp_path / "second", name="second")
    second.start()
    url = ", ".join(c.tcp_url("postgres", c.password, "postgres") for c in (pg_cluster, second))
    settings = SandboxSettings(sandbox="server", sandbox_url=url, sandbox_prefix="texmany", pool_size=0)
    manager = SandboxManager(ServerProvider(url), settings, secret="s")
    manager.start(background=False)
    try:
        yield manager
    finally:
        for info in manager.list_workspaces():
            manager.drop_workspace(info.id)
        manager.stop()
        second.stop(wipe=True)


def seeded(manager: SandboxManager, sandbox_id: str) -> tuple[int, dict[str, int]]:
    """The port of the workspace's server and the User rows of each environment."""
    workspace = manager.open_workspace(sandbox_id)
    assert workspace is not None
    counts = {}
    for env in ("dev", "staging", "prod"):
        with psycopg.connect(workspace.conninfo(env)) as conn:
            counts[env] = conn.execute('SELECT count(*) FROM "User"').fetchone()[0]
    return workspace.server.app_port, counts


def test_exercise_workspaces_start_from_templates_on_their_own_server(
    two_servers: SandboxManager, tmp_path: Path, repo_root: Path
) -> None:
    from app.main import create_app
    from app.settings import Settings

    settings = Settings(lessons_dir=repo_root / "lessons", data_dir=tmp_path / "data", assets="local")
    with TestClient(create_app(settings, sandboxes=two_servers)) as client:
        found = {}
        for _ in range(2):  # equal loads: the second learner's workspace goes to the other server
            client.cookies.clear()  # a new visitor
            learner = Learner(client, DEPLOY)
            (sandbox_id,) = sandbox_ids(client, learner.context) - found.keys()
            found[sandbox_id] = seeded(two_servers, sandbox_id)
        (port_a, rows_a), (port_b, rows_b) = found.values()
        assert port_a != port_b
        assert rows_a == rows_b and rows_a["prod"] > rows_a["dev"] > 0  # the seed, as the exercise wrote it

        # The reaper drops the last one; the learner's next view rebuilds it (on the least loaded server,
        # as any new workspace) from that server's templates, seeded as before.
        assert sandbox_id in two_servers.reap_idle(idle_seconds=0)
        learner.open()
        port, rows = seeded(two_servers, sandbox_id)
        assert port in (port_a, port_b) and rows == rows_b


def sandbox_ids(client: TestClient, context: str) -> set[str]:
    from app.db.workspaces import SavedWorkspace

    with client.app.state.services.state.session() as session:
        rows = session.query(SavedWorkspace).filter_by(context=context).all()
    return {row.sandbox_id for row in rows if row.sandbox_id}
