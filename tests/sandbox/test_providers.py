"""The server provider over the session cluster's TCP port (as a superuser and as a CREATEROLE admin), the
docker provider where an engine answers, and the settings that choose between them."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError

from sandbox import SandboxError, SandboxManager, SandboxSettings
from sandbox.cluster import EmbeddedCluster
from sandbox.providers import make_provider
from sandbox.providers.docker import DockerProvider
from sandbox.providers.embedded import EmbeddedProvider
from sandbox.providers.server import ServerProvider


def docker_engine_answers() -> bool:
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return False
    return True


HAS_DOCKER = docker_engine_answers()


def server_manager(url: str, prefix: str) -> SandboxManager:
    settings = SandboxSettings(sandbox="server", sandbox_url=url, sandbox_prefix=prefix, pool_size=1)
    return SandboxManager(ServerProvider(url), settings, secret="s")


def check_workspace_round_trip(manager: SandboxManager) -> None:
    manager.fill_pool()
    ws = manager.create_workspace()
    try:
        assert ws.url("dev").startswith(f"postgresql://{ws.role}:")
        with psycopg.connect(ws.conninfo("dev")) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (ws.role,)
            conn.execute("CREATE TABLE t (id int)")
        ws.clone_env("dev", "b1")
        ws.reset_env("dev")
        ws.restore_env("dev", "b1")
        with psycopg.connect(ws.conninfo("dev")) as conn:
            assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    finally:
        for info in manager.list_workspaces():
            manager.drop_workspace(info.id)
    assert manager.list_workspaces() == []


def test_server_provider_with_a_superuser_url(pg_cluster: EmbeddedCluster) -> None:
    manager = server_manager(pg_cluster.tcp_url("postgres", pg_cluster.password, "postgres"), "tsrv")
    manager.start(background=False)
    try:
        check_workspace_round_trip(manager)
    finally:
        manager.stop()


def test_workspaces_kept_on_a_server_get_the_passwords_of_a_new_secret(pg_cluster: EmbeddedCluster) -> None:
    url = pg_cluster.tcp_url("postgres", pg_cluster.password, "postgres")
    first = SandboxManager(ServerProvider(url), SandboxSettings(sandbox_prefix="tsec", pool_size=0), "one")
    first.start(background=False)
    ws = first.create_workspace()
    first.stop()  # the server keeps the workspace; the next run has another secret
    second = SandboxManager(ServerProvider(url), SandboxSettings(sandbox_prefix="tsec", pool_size=0), "two")
    second.start(background=False)
    try:
        again = second.open_workspace(ws.id)
        assert again is not None and again.password != ws.password
        with psycopg.connect(again.url("dev")) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (ws.role,)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(ws.url("dev"))
    finally:
        second.drop_workspace(ws.id)
        second.stop()


@pytest.fixture
def createrole_admin(pg_cluster: EmbeddedCluster) -> Iterator[str]:
    """A non-superuser admin that can create roles and databases, with a database of its own."""
    password = secrets.token_urlsafe(12)
    with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE tadmin LOGIN CREATEROLE CREATEDB PASSWORD '{password}'")
        conn.execute("CREATE DATABASE tadmin_home OWNER tadmin")
    yield pg_cluster.tcp_url("tadmin", password, "tadmin_home")
    with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute("DROP DATABASE tadmin_home WITH (FORCE)")
        conn.execute("DROP ROLE tadmin")


def test_server_provider_with_a_createrole_admin(createrole_admin: str) -> None:
    manager = server_manager(createrole_admin, "tcra")
    manager.start(background=False)
    try:
        ws = manager.create_workspace()
        with psycopg.connect(ws.conninfo("prod")) as conn:
            config = conn.execute("SELECT rolconfig FROM pg_roles WHERE rolname = current_user").fetchone()
        assert config is not None
        # temp_file_limit needs a superuser even as a role default; the rest applies.
        assert not any(item.startswith("temp_file_limit") for item in config[0])
        assert any(item.startswith("statement_timeout") for item in config[0])
        check_workspace_round_trip(manager)
    finally:
        manager.stop()


def test_server_provider_needs_a_url() -> None:
    with pytest.raises(SandboxError, match="MIGRATION_LAB_SANDBOX_URL"):
        ServerProvider(None)


def test_server_provider_that_cannot_connect_fails_at_start(pg_cluster: EmbeddedCluster) -> None:
    provider = ServerProvider(pg_cluster.tcp_url("postgres", "wrong-password", "postgres"))
    with pytest.raises(SandboxError, match="Cannot reach the sandbox server 127.0.0.1:.*password"):
        provider.start()


def test_settings_choose_the_provider(tmp_path: Path) -> None:
    assert isinstance(make_provider(SandboxSettings(), tmp_path), EmbeddedProvider)
    server = SandboxSettings(sandbox="server", sandbox_url="postgresql://a:b@db:5432/postgres")
    assert isinstance(make_provider(server, tmp_path), ServerProvider)
    assert isinstance(make_provider(SandboxSettings(sandbox="docker"), tmp_path), DockerProvider)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRATION_LAB_SANDBOX", "server")
    monkeypatch.setenv("MIGRATION_LAB_POOL_SIZE", "3")
    monkeypatch.setenv("MIGRATION_LAB_STATEMENT_TIMEOUT_MS", "1500")
    settings = SandboxSettings()
    assert (settings.sandbox, settings.pool_size, settings.statement_timeout_ms) == ("server", 3, 1500)
    monkeypatch.setenv("MIGRATION_LAB_SANDBOX", "cloud")
    with pytest.raises(ValidationError, match="embedded"):
        SandboxSettings()
    monkeypatch.setenv("MIGRATION_LAB_SANDBOX", "embedded")
    monkeypatch.setenv("MIGRATION_LAB_SANDBOX_PREFIX", "Bad_Prefix")
    with pytest.raises(ValidationError, match="sandbox_prefix"):
        SandboxSettings()


def test_every_setting_is_described() -> None:
    for name, field in SandboxSettings.model_fields.items():
        assert field.description, f"SandboxSettings.{name} has no description"


@pytest.mark.skipif(HAS_DOCKER, reason="a Docker engine answers: the missing-engine message cannot be seen")
def test_docker_provider_without_an_engine_says_what_to_do() -> None:
    with pytest.raises(SandboxError, match="needs a Docker engine.*MIGRATION_LAB_SANDBOX=embedded"):
        DockerProvider("postgres:17-alpine", "tdkr").start()


def local_docker_image() -> str:
    """The image for docker provider tests: MIGRATION_LAB_DOCKER_IMAGE, else the default when the engine has
    it, else the locally built stand-in (machines that cannot pull images; see README, "Docker")."""
    import docker

    explicit = os.environ.get("MIGRATION_LAB_DOCKER_IMAGE")
    if explicit:
        return explicit
    default = SandboxSettings().docker_image
    images = docker.from_env().images
    for candidate in (default, "mlab-local/postgres:15"):
        try:
            images.get(candidate)
            return candidate
        except docker.errors.ImageNotFound:
            continue
    return default


@pytest.fixture
def offline_testcontainers(monkeypatch: pytest.MonkeyPatch) -> None:
    """testcontainers' reaper image cannot be pulled offline, and it must talk to the published port on
    127.0.0.1; the provider stops its own containers, so nothing is left behind without the reaper."""
    from testcontainers.core.config import ConnectionMode, testcontainers_config

    monkeypatch.setattr(testcontainers_config, "ryuk_disabled", True)
    monkeypatch.setattr(testcontainers_config, "connection_mode_override", ConnectionMode.docker_host)
    monkeypatch.setattr(testcontainers_config, "tc_host_override", "127.0.0.1")


@pytest.mark.docker
@pytest.mark.skipif(not HAS_DOCKER, reason="no Docker engine answers on this machine")
def test_docker_provider_gives_each_workspace_its_own_container(offline_testcontainers: None) -> None:
    import docker

    image = local_docker_image()
    settings = SandboxSettings(sandbox="docker", sandbox_prefix="tdkr", pool_size=0, docker_image=image)
    manager = SandboxManager(DockerProvider(settings.docker_image, "tdkr"), settings, secret="s")
    manager.start(background=False)
    try:
        a, b = manager.create_workspace(), manager.create_workspace()
        assert a.server is not b.server
        with psycopg.connect(a.conninfo("dev")) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (a.role,)
            conn.execute("CREATE TABLE t (id int)")
        with psycopg.connect(b.conninfo("dev")) as conn:  # b's container knows nothing of a's table
            assert conn.execute("SELECT to_regclass('t')").fetchone() == (None,)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(a.url("dev").replace(a.password, "wrong"))
    finally:
        manager.stop()
    left = docker.from_env().containers.list(all=True, filters={"label": "migration-lab.prefix=tdkr"})
    assert left == []


def test_role_conninfo_is_remembered_per_role_password_and_database() -> None:
    from psycopg.conninfo import conninfo_to_dict

    from sandbox.providers.base import Server

    server = Server(admin={}, admin_db="postgres", app_host="/tmp/sock", app_port=5432, public_host="h",
                    public_port=5432)  # fmt: skip
    first = server.role_conninfo("mlab_a", "secret one", "mlab_a_dev")
    assert server.role_conninfo("mlab_a", "secret one", "mlab_a_dev") is first
    assert conninfo_to_dict(first) == {
        "host": "/tmp/sock", "port": "5432", "user": "mlab_a", "password": "secret one",
        "dbname": "mlab_a_dev",
    }  # fmt: skip
    # A new password (the secret rotated) or another database is another conninfo.
    rotated = conninfo_to_dict(server.role_conninfo("mlab_a", "secret two", "mlab_a_dev"))
    assert rotated["password"] == "secret two"
    other = conninfo_to_dict(server.role_conninfo("mlab_a", "secret one", "mlab_a_prod"))
    assert other["dbname"] == "mlab_a_prod" and other["password"] == "secret one"
