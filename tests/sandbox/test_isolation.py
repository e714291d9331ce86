"""Isolation, item by item from the issue: what workspace A's role tries fails with PostgreSQL's own error,
and the cluster keeps serving workspace B (and A's next statement)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors
from psycopg.conninfo import make_conninfo

from sandbox import SandboxManager, Workspace


@pytest.fixture
def conn_a(workspace: Workspace) -> Iterator[psycopg.Connection]:
    with psycopg.connect(workspace.conninfo("dev"), autocommit=True) as conn:
        yield conn


def assert_still_serving(a: psycopg.Connection, b: Workspace) -> None:
    assert a.execute("SELECT 1").fetchone() == (1,)
    with psycopg.connect(b.conninfo("prod")) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (b.role,)


def test_connecting_to_another_workspaces_database_fails(
    workspace: Workspace, other_workspace: Workspace
) -> None:
    over_socket = make_conninfo(workspace.conninfo("dev"), dbname=other_workspace.dbname("dev"))
    over_tcp = workspace.url("dev").rsplit("/", 1)[0] + "/" + other_workspace.dbname("prod")
    for conninfo in (over_socket, over_tcp):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(conninfo)
    with pytest.raises(psycopg.OperationalError, match='permission denied for database "postgres"'):
        psycopg.connect(make_conninfo(workspace.conninfo("dev"), dbname="postgres"))
    with psycopg.connect(workspace.conninfo("dev")) as conn:
        assert_still_serving(conn, other_workspace)


def test_a_wrong_password_is_refused_over_tcp(workspace: Workspace) -> None:
    url = workspace.url("dev").replace(workspace.password, "not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(url)


def test_pg_read_file_is_denied(conn_a: psycopg.Connection, other_workspace: Workspace) -> None:
    with pytest.raises(errors.InsufficientPrivilege, match="permission denied for function pg_read_file"):
        conn_a.execute("SELECT pg_read_file('/etc/passwd')")
    assert_still_serving(conn_a, other_workspace)


@pytest.mark.parametrize(
    "statement",
    ["COPY (SELECT 1) TO PROGRAM 'id'", "COPY t FROM PROGRAM 'cat /etc/passwd'"],
)
def test_copy_to_or_from_program_is_denied(
    conn_a: psycopg.Connection, other_workspace: Workspace, statement: str
) -> None:
    conn_a.execute("CREATE TABLE t (line text)")
    with pytest.raises(errors.InsufficientPrivilege, match="pg_execute_server_program"):
        conn_a.execute(statement)
    assert_still_serving(conn_a, other_workspace)


def test_copy_from_a_server_file_is_denied(conn_a: psycopg.Connection, other_workspace: Workspace) -> None:
    conn_a.execute("CREATE TABLE t (line text)")
    with pytest.raises(errors.InsufficientPrivilege, match="pg_read_server_files"):
        conn_a.execute("COPY t FROM '/etc/passwd'")
    assert_still_serving(conn_a, other_workspace)


def test_create_role_is_denied(conn_a: psycopg.Connection, other_workspace: Workspace) -> None:
    with pytest.raises(errors.InsufficientPrivilege, match="permission denied to create role"):
        conn_a.execute("CREATE ROLE intruder LOGIN")
    with pytest.raises(errors.InsufficientPrivilege, match="must be superuser to create superusers"):
        conn_a.execute("CREATE ROLE intruder SUPERUSER")
    assert_still_serving(conn_a, other_workspace)


def test_alter_system_is_denied(conn_a: psycopg.Connection, other_workspace: Workspace) -> None:
    with pytest.raises(errors.InsufficientPrivilege, match="permission denied to set parameter"):
        conn_a.execute("ALTER SYSTEM SET max_connections = 5")
    assert_still_serving(conn_a, other_workspace)


def test_making_oneself_superuser_is_denied(
    conn_a: psycopg.Connection, workspace: Workspace, other_workspace: Workspace
) -> None:
    with pytest.raises(errors.InsufficientPrivilege, match="must be superuser to alter superuser roles"):
        conn_a.execute(f'ALTER ROLE "{workspace.role}" SUPERUSER')
    with pytest.raises(errors.InsufficientPrivilege):
        conn_a.execute(f'ALTER ROLE "{workspace.role}" CREATEROLE')
    assert_still_serving(conn_a, other_workspace)


def test_dropping_another_workspaces_database_is_denied(
    conn_a: psycopg.Connection, other_workspace: Workspace
) -> None:
    with pytest.raises(errors.InsufficientPrivilege, match="must be owner of database"):
        conn_a.execute(f'DROP DATABASE "{other_workspace.dbname("prod")}"')
    assert_still_serving(conn_a, other_workspace)


def test_untrusted_extension_is_denied_trusted_one_allowed(
    conn_a: psycopg.Connection, other_workspace: Workspace
) -> None:
    with pytest.raises(errors.InsufficientPrivilege, match='denied to create extension "file_fdw"'):
        conn_a.execute("CREATE EXTENSION file_fdw")
    conn_a.execute("CREATE EXTENSION pgcrypto")  # trusted: a database owner may, and migrations use it
    assert_still_serving(conn_a, other_workspace)


def test_set_role_to_another_role_is_denied(conn_a: psycopg.Connection, other_workspace: Workspace) -> None:
    for target in (other_workspace.role, "postgres"):
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied to set role"):
            conn_a.execute(f'SET ROLE "{target}"')
    assert_still_serving(conn_a, other_workspace)


def test_pg_sleep_is_cancelled_by_the_statement_timeout(
    conn_a: psycopg.Connection, other_workspace: Workspace
) -> None:
    started = time.monotonic()
    with pytest.raises(errors.QueryCanceled, match="statement timeout"):
        conn_a.execute("SELECT pg_sleep(60)")
    assert time.monotonic() - started < 5
    assert_still_serving(conn_a, other_workspace)


def test_runaway_generate_series_is_cancelled_by_the_statement_timeout(
    conn_a: psycopg.Connection, other_workspace: Workspace
) -> None:
    with pytest.raises(errors.QueryCanceled, match="statement timeout"):
        conn_a.execute("SELECT count(*) FROM (SELECT generate_series(1, 100000000000)) AS s")
    assert_still_serving(conn_a, other_workspace)


def test_generate_series_spilling_to_disk_stops_at_temp_file_limit(
    conn_a: psycopg.Connection, other_workspace: Workspace
) -> None:
    with pytest.raises(errors.ConfigurationLimitExceeded, match="temp_file_limit"):
        conn_a.execute("SELECT count(*) FROM generate_series(1, 100000000000)")
    assert_still_serving(conn_a, other_workspace)


def test_watchdog_cancels_a_query_whose_learner_removed_the_timeout(
    manager: SandboxManager, conn_a: psycopg.Connection, other_workspace: Workspace
) -> None:
    conn_a.execute("SET statement_timeout = 0")
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set() and manager.watchdog() == 0:
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with pytest.raises(errors.QueryCanceled, match="canceling statement due to user request"):
            conn_a.execute("SELECT pg_sleep(60)")
    finally:
        stop.set()
        watcher.join()
    assert_still_serving(conn_a, other_workspace)


def test_lock_waits_stop_at_the_lock_timeout(workspace: Workspace, other_workspace: Workspace) -> None:
    with psycopg.connect(workspace.conninfo("dev"), autocommit=True) as holder:
        holder.execute("CREATE TABLE t (id int)")
        with holder.transaction():
            holder.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
            with psycopg.connect(workspace.conninfo("dev"), autocommit=True) as waiter:
                with pytest.raises(errors.LockNotAvailable, match="lock timeout"):
                    waiter.execute("SELECT * FROM t")
        assert_still_serving(holder, other_workspace)


def test_idle_transaction_is_ended(workspace: Workspace, other_workspace: Workspace) -> None:
    conn = psycopg.connect(workspace.conninfo("dev"))
    conn.execute("SELECT 1")  # opens a transaction and leaves it idle
    time.sleep(2.5)  # the test settings' idle_in_transaction timeout is 2 s
    with pytest.raises(errors.IdleInTransactionSessionTimeout, match="idle-in-transaction timeout"):
        conn.execute("SELECT 1")
    conn.close()
    with psycopg.connect(workspace.conninfo("dev")) as fresh:
        assert_still_serving(fresh, other_workspace)


def test_a_flood_of_connections_stops_at_the_role_limit(
    manager: SandboxManager, workspace: Workspace, other_workspace: Workspace
) -> None:
    assert manager.settings.connection_limit == 3
    held = [psycopg.connect(workspace.conninfo(env)) for env in ("dev", "staging", "prod")]
    try:
        with pytest.raises(psycopg.OperationalError, match="too many connections for role"):
            psycopg.connect(workspace.conninfo("shadow"))
        assert_still_serving(held[0], other_workspace)
    finally:
        for conn in held:
            conn.close()
    # Slots free up once the closed sessions' backends have exited (asynchronously, within moments).
    deadline = time.monotonic() + 5
    while True:
        try:
            with psycopg.connect(workspace.conninfo("shadow")) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_role_attributes_grant_nothing_beyond_its_databases(
    manager: SandboxManager, workspace: Workspace
) -> None:
    with psycopg.connect(workspace.admin_conninfo("dev")) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolconnlimit,"
            " rolconfig FROM pg_roles WHERE rolname = %s",
            (workspace.role,),
        ).fetchone()
        owners = conn.execute(
            "SELECT DISTINCT pg_get_userbyid(datdba) FROM pg_database WHERE datname = ANY(%s)",
            ([workspace.dbname(env) for env in ("dev", "staging", "prod", "shadow")],),
        ).fetchall()
        public_connect = conn.execute(
            "SELECT has_database_privilege('public', %s, 'CONNECT')", (workspace.dbname("dev"),)
        ).fetchone()
    assert row is not None
    assert row[:6] == (False, False, False, False, False, 3)
    assert set(row[6]) == {
        "statement_timeout=1000ms",
        "lock_timeout=500ms",
        "idle_in_transaction_session_timeout=2000ms",
        "work_mem=1024kB",
        "temp_file_limit=2048kB",
    }
    assert owners == [(workspace.role,)]
    assert public_connect == (False,)
