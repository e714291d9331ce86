"""Workspace operations against the session cluster: create (warm and cold), environments, backups,
templates, rebuild, reaping and orphans."""

from __future__ import annotations

import psycopg
import pytest

from sandbox import ENVS, InvalidName, SandboxError, SandboxManager, Workspace


def tables(conninfo: str) -> list[str]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
    return [row[0] for row in rows]


def test_a_workspace_has_four_databases_reachable_as_its_role(workspace: Workspace) -> None:
    assert workspace.databases() == sorted(workspace.dbname(env) for env in ENVS)
    for env in ENVS:
        with psycopg.connect(workspace.conninfo(env)) as conn:
            row = conn.execute("SELECT current_user, current_database()").fetchone()
            assert row == (workspace.role, f"{workspace.role}_{env}")
            conn.execute("CREATE TABLE owned_here (id serial PRIMARY KEY)")


def test_url_is_a_tcp_url_that_logs_in_with_the_password(workspace: Workspace) -> None:
    url = workspace.url("staging")
    assert url.startswith(f"postgresql://{workspace.role}:{workspace.password}@127.0.0.1:")
    assert url.endswith("/" + workspace.dbname("staging"))
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_user, inet_server_addr() IS NOT NULL").fetchone() == (
            workspace.role,
            True,
        )


def test_warm_pool_hands_out_a_prebuilt_workspace_and_refills(manager: SandboxManager) -> None:
    assert manager.fill_pool() >= 0
    pooled = {info.id for info in manager.list_workspaces() if info.state == "pool"}
    assert len(pooled) == manager.settings.pool_size
    ws = manager.create_workspace()
    try:
        assert ws.id in pooled
        assert {i.id: i.state for i in manager.list_workspaces()}[ws.id] == "active"
        assert tables(ws.conninfo("dev")) == []
        assert manager.fill_pool() == 1
    finally:
        manager.drop_workspace(ws.id)


def test_cold_creation_when_the_pool_is_empty(manager: SandboxManager) -> None:
    for info in manager.list_workspaces():
        if info.state == "pool":
            manager.drop_workspace(info.id)
    ws = manager.create_workspace()
    try:
        assert ws.databases() == sorted(ws.dbname(env) for env in ENVS)
    finally:
        manager.drop_workspace(ws.id)


def test_reset_env_empties_only_that_environment(workspace: Workspace) -> None:
    for env in ("dev", "prod"):
        with psycopg.connect(workspace.conninfo(env)) as conn:
            conn.execute("CREATE TABLE users (id int)")
    keeps_a_session = psycopg.connect(workspace.conninfo("dev"))
    workspace.reset_env("dev")
    assert keeps_a_session.closed or keeps_a_session.broken or _is_terminated(keeps_a_session)
    assert tables(workspace.conninfo("dev")) == []
    assert tables(workspace.conninfo("prod")) == ["users"]


def _is_terminated(conn: psycopg.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False


def test_clone_and_restore_an_environment(workspace: Workspace) -> None:
    with psycopg.connect(workspace.conninfo("prod")) as conn:
        conn.execute("CREATE TABLE users (id serial PRIMARY KEY, email text)")
        conn.execute("INSERT INTO users (email) VALUES ('a@example.com')")
    backup = workspace.clone_env("prod", "before_deploy")
    assert workspace.backups() == ["before_deploy"]
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(workspace.conninfo("prod").replace(workspace.dbname("prod"), backup))
    with psycopg.connect(workspace.conninfo("prod")) as conn:
        conn.execute("DROP TABLE users")
    workspace.restore_env("prod", "before_deploy")
    with psycopg.connect(workspace.conninfo("prod")) as conn:
        assert conn.execute("SELECT email FROM users").fetchall() == [("a@example.com",)]
        conn.execute("ALTER TABLE users ADD COLUMN name text")  # still owned by the learner
        conn.execute("INSERT INTO users (email) VALUES ('b@example.com')")  # and its sequence too
    workspace.drop_backup("before_deploy")
    assert workspace.backups() == []
    with pytest.raises(SandboxError, match="no backup named 'before_deploy'"):
        workspace.restore_env("prod", "before_deploy")


def test_environment_from_a_template_is_owned_by_the_learner(
    manager: SandboxManager, workspace: Workspace
) -> None:
    template = manager.create_template(
        "seeded_shop",
        """
        CREATE TYPE status AS ENUM ('new', 'paid');
        CREATE TABLE orders (id serial PRIMARY KEY, status status NOT NULL DEFAULT 'new');
        INSERT INTO orders (status) SELECT 'paid' FROM generate_series(1, 500);
        CREATE VIEW paid AS SELECT * FROM orders WHERE status = 'paid';
        CREATE FUNCTION order_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM orders';
        CREATE SCHEMA reporting;
        """,
    )
    try:
        assert manager.template_exists("seeded_shop")
        workspace.create_env_from_template("staging", template)
        with psycopg.connect(workspace.conninfo("staging")) as conn:
            assert conn.execute("SELECT order_count()").fetchone() == (500,)
            # Each of these needs ownership: the copy's objects were reassigned to the learner.
            conn.execute("ALTER TABLE orders ADD COLUMN total int")
            conn.execute("INSERT INTO orders DEFAULT VALUES")
            conn.execute("ALTER TYPE status ADD VALUE 'refunded'")
            conn.execute("DROP VIEW paid")
            conn.execute("DROP FUNCTION order_count()")
            conn.execute("DROP SCHEMA reporting")
        assert tables(workspace.conninfo("dev")) == []
    finally:
        manager.drop_template("seeded_shop")
    assert not manager.template_exists("seeded_shop")
    with pytest.raises(SandboxError, match="does not exist"):
        workspace.create_env_from_template("staging", template)


def test_size_counts_every_database_of_the_workspace(workspace: Workspace) -> None:
    empty = workspace.size_bytes()
    assert 4 * 6 * 2**20 < empty < 4 * 10 * 2**20  # an empty PostgreSQL 15 database is ~7.3 MiB
    workspace.clone_env("dev", "copy")
    assert workspace.size_bytes() > empty * 1.2


def test_ensure_rebuilds_a_dropped_workspace_with_the_same_id_and_password(manager: SandboxManager) -> None:
    ws = manager.create_workspace()
    try:
        same, rebuilt = manager.ensure_workspace(ws.id)
        assert not rebuilt and same.url("dev") == ws.url("dev")
        manager.drop_workspace(ws.id)
        assert manager.open_workspace(ws.id) is None
        again, rebuilt = manager.ensure_workspace(ws.id)
        assert rebuilt
        assert (again.id, again.role, again.password) == (ws.id, ws.role, ws.password)
        with psycopg.connect(again.url("prod")) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (ws.role,)
    finally:
        manager.drop_workspace(ws.id)


def test_ensure_rebuilds_when_one_database_was_lost(manager: SandboxManager, workspace: Workspace) -> None:
    with psycopg.connect(workspace.server.admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{workspace.dbname("shadow")}"')
    _, rebuilt = manager.ensure_workspace(workspace.id)
    assert rebuilt
    assert workspace.databases() == sorted(workspace.dbname(env) for env in ENVS)


def test_reaper_drops_idle_workspaces_and_spares_touched_ones(manager: SandboxManager) -> None:
    idle, busy = manager.create_workspace(), manager.create_workspace()
    try:
        with psycopg.connect(idle.server.admin_conninfo()) as conn:
            conn.execute(
                "UPDATE migration_lab_sandbox.workspaces SET last_used_at = now() - interval '3 hours'"
                " WHERE prefix = %s AND id IN (%s, %s)",
                (manager.prefix, idle.id, busy.id),
            )
        manager.touch(busy.id)
        assert manager.reap_idle() == [idle.id]
        assert manager.open_workspace(idle.id) is None
        assert idle.databases() == []
        assert manager.open_workspace(busy.id) is not None
    finally:
        manager.drop_workspace(idle.id)
        manager.drop_workspace(busy.id)


def test_remove_orphans_drops_unregistered_roles_and_databases(
    manager: SandboxManager, workspace: Workspace
) -> None:
    prefix = manager.prefix
    with psycopg.connect(workspace.admin_conninfo("dev"), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{prefix}_orphan1" LOGIN')
        conn.execute(f'CREATE DATABASE "{prefix}_orphan1_dev" OWNER "{prefix}_orphan1"')
        conn.execute(f'CREATE DATABASE "{prefix}_orphan2_prod"')
    assert manager.remove_orphans() == ["orphan1", "orphan2"]
    with psycopg.connect(workspace.admin_conninfo("dev")) as conn:
        left = conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE %s UNION ALL"
            " SELECT datname FROM pg_database WHERE datname LIKE %s",
            (f"{prefix}_orphan%", f"{prefix}_orphan%"),
        ).fetchall()
    assert left == []
    assert manager.open_workspace(workspace.id) is not None  # registered workspaces are untouched


@pytest.mark.parametrize("bad", ["", "W123", "abc", "a_bcd", "abcd; DROP ROLE x", 'ab"cd', "1abc", "a" * 33])
def test_workspace_ids_are_validated(manager: SandboxManager, bad: str) -> None:
    with pytest.raises(InvalidName, match="Invalid workspace id"):
        manager.open_workspace(bad)
    with pytest.raises(InvalidName):
        manager.drop_workspace(bad)


def test_env_and_backup_names_are_validated(workspace: Workspace) -> None:
    with pytest.raises(InvalidName, match="Unknown environment 'qa'"):
        workspace.conninfo("qa")
    with pytest.raises(InvalidName, match="Invalid backup name"):
        workspace.clone_env("prod", "x'; DROP DATABASE y; --")


def test_admin_conninfo_reaches_the_server_as_a_superuser(manager: SandboxManager) -> None:
    with psycopg.connect(manager.admin_conninfo()) as conn:
        row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    assert row == (True,)


def test_a_workspace_being_built_is_neither_handed_out_nor_opened(manager: SandboxManager) -> None:
    manager.registry.add("wbuilding1", "building")  # as a refiller in another process would, mid-build
    try:
        assert manager.open_workspace("wbuilding1") is None
        ws = manager.create_workspace()
        assert ws.id != "wbuilding1"
        manager.drop_workspace(ws.id)
        assert manager.remove_orphans() == []  # not an orphan while young
        with psycopg.connect(manager.admin_conninfo()) as conn:
            conn.execute(
                "UPDATE migration_lab_sandbox.workspaces SET created_at = now() - interval '1 hour'"
                " WHERE prefix = %s AND id = 'wbuilding1'",
                (manager.prefix,),
            )
        manager.remove_orphans()  # a build that died long ago is cleaned up
        assert manager.registry.get("wbuilding1") is None
    finally:
        manager.drop_workspace("wbuilding1")


def test_the_pool_prepares_each_workspace_before_handing_it_out(pg_cluster) -> None:
    """`prepare_pooled` runs on every pooled workspace before anyone may claim it; its label comes back
    with the claim; a preparation that fails leaves neither a pooled workspace nor its databases."""
    import psycopg

    from tests.sandbox.conftest import TEST_SETTINGS

    settings = TEST_SETTINGS.model_copy(update={"sandbox_prefix": "tprp", "pool_size": 1})
    manager = SandboxManager.over_cluster(pg_cluster, settings, secret="test-secret")
    prepared: list[str] = []

    def prepare(ws) -> str:
        with psycopg.connect(ws.conninfo("dev"), autocommit=True) as conn:
            conn.execute("CREATE TABLE ready (id int)")
        prepared.append(ws.id)
        return f"ready:{ws.id}"

    manager.prepare_pooled = prepare
    manager.start(background=False)
    try:
        assert manager.fill_pool() == 1 and len(prepared) == 1
        ws = manager.create_workspace()
        assert ws.id == prepared[0] and ws.prepared == f"ready:{ws.id}"
        with psycopg.connect(ws.conninfo("dev"), autocommit=True) as conn:
            assert conn.execute("SELECT to_regclass('ready') IS NOT NULL").fetchone() == (True,)
        cold = manager.create_workspace(warm=False)
        assert cold.prepared == ""  # built for its learner: nothing was done to it

        def broken(ws) -> str:
            raise RuntimeError("preparation failed")

        manager.prepare_pooled = broken
        with pytest.raises(RuntimeError):
            manager.fill_pool()
        left = {info.id for info in manager.list_workspaces()}
        assert left == {ws.id, cold.id}
        with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as admin:
            found = admin.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'tprp%%'")
            databases = found.fetchone()
        assert databases == (8,)  # the two workspaces' four each, nothing of the failed one
    finally:
        for info in manager.list_workspaces():
            manager.drop_workspace(info.id)
        manager.stop()
