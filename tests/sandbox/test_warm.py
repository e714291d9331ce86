"""Kept connections (sandbox.warm) against a real cluster: a loan never sees what the previous one left in
the session, a session that was ended is replaced, a failed or unfinished loan is not kept."""

from __future__ import annotations

import time

import psycopg
import pytest

from sandbox.warm import WarmConnections

LOCK_KEY = 72707369  # the migration lock's key is the engine's; any key shows the release


@pytest.fixture
def warm() -> WarmConnections:
    connections = WarmConnections(max_idle=4, idle_s=60)
    yield connections
    connections.close()


def backend(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT pg_backend_pid()").fetchone()[0]


def test_a_second_loan_reuses_the_session_with_nothing_left_of_the_first(
    warm: WarmConnections, fresh_db: str
) -> None:
    with warm.connection(fresh_db) as conn:
        first = backend(conn)
        conn.execute("CREATE SCHEMA evil")
        conn.execute("SET search_path = evil, pg_catalog")
        conn.execute("SELECT set_config('statement_timeout', '1ms', false)")
        conn.execute("CREATE TEMP TABLE scratch (x int)")
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    # Released at once, not at the next loan: another session takes the lock without waiting.
    with psycopg.connect(fresh_db, autocommit=True) as other:
        assert other.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0] is True
    with warm.connection(fresh_db) as conn:
        assert backend(conn) == first
        assert conn.execute("SHOW search_path").fetchone()[0] == '"$user", public'
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "0"
        assert conn.execute("SELECT to_regclass('pg_temp.scratch')").fetchone()[0] is None
        # Repeated statements are not prepared on the server, where DISCARD ALL would drop them.
        for _ in range(8):
            assert conn.execute("SELECT count(*) FROM pg_class WHERE relname = %s", ("x",)).fetchone()


def test_a_session_ended_on_the_server_is_replaced(warm: WarmConnections, fresh_db: str) -> None:
    with warm.connection(fresh_db) as conn:
        first = backend(conn)
    with psycopg.connect(fresh_db, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    with warm.connection(fresh_db) as conn:
        assert backend(conn) != first
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_loan_that_failed_or_left_a_transaction_open_is_closed(
    warm: WarmConnections, fresh_db: str
) -> None:
    with pytest.raises(psycopg.errors.UndefinedTable):
        with warm.connection(fresh_db) as conn:
            failed = conn
            conn.execute("SELECT * FROM missing")
    assert failed.closed
    with warm.connection(fresh_db) as conn:
        conn.execute("BEGIN")
        unfinished = conn
    assert unfinished.closed


def test_idle_connections_are_bounded_and_expire(fresh_db: str) -> None:
    warm = WarmConnections(max_idle=1, idle_s=60)
    try:
        with warm.connection(fresh_db) as a, warm.connection(fresh_db) as b:
            pass
        assert a.closed != b.closed  # one kept, the other closed: at most max_idle stay open
        warm.idle_s = 0
        with warm.connection(fresh_db) as c:
            assert c is not a and c is not b  # the kept one had expired
        assert a.closed and b.closed
    finally:
        warm.close()


@pytest.fixture
def role_conninfo(fresh_db: str):
    """A conninfo of `fresh_db` as a role of its own (kept sessions are counted per role)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    role = "warm_bounded"
    with psycopg.connect(fresh_db, autocommit=True) as admin:
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 10")
    params = conninfo_to_dict(fresh_db)
    params["user"] = role
    yield make_conninfo("", **params)
    with psycopg.connect(fresh_db, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
        admin.execute(f"DROP ROLE IF EXISTS {role}")


def kept_sessions(admin_conninfo: str, role: str = "warm_bounded") -> tuple[int, str | None]:
    with psycopg.connect(admin_conninfo, autocommit=True) as admin:
        return admin.execute(
            "SELECT count(*), min(application_name) FROM pg_stat_activity"
            " WHERE usename = %s AND state = 'idle'",
            (role,),
        ).fetchone()


def test_a_session_still_lent_does_not_count_as_kept(fresh_db: str, role_conninfo: str) -> None:
    """A command holding two sessions (the migration's database and its shadow) gives the inner one back
    while the outer one, lent, sits idle between statements: counting that one as kept made the role look
    full, and the next session it needed (a learner's third environment) was opened afresh at every view."""
    warm = WarmConnections(per_role=2)
    try:
        with warm.connection(role_conninfo) as outer:
            assert outer.execute("SHOW application_name").fetchone()[0] == "migration-lab-lent"
            with warm.connection(role_conninfo):
                pass
        assert kept_sessions(fresh_db) == (2, "migration-lab-kept")
    finally:
        warm.close()


def test_kept_connections_of_a_role_are_bounded_across_processes(fresh_db: str, role_conninfo: str) -> None:
    """Two caches stand for two worker processes: together they keep at most `per_role` sessions of one
    role, so the rest of its connection limit stays free."""
    first, second = WarmConnections(per_role=3), WarmConnections(per_role=3)
    try:
        with first.connection(role_conninfo), first.connection(role_conninfo):
            pass
        for _ in range(3):  # one kept by the second process, lent and kept again
            with second.connection(role_conninfo):
                pass
        with second.connection(role_conninfo), second.connection(role_conninfo):
            pass  # one more would make four
        assert kept_sessions(fresh_db) == (3, "migration-lab-kept")  # the fourth was closed, not kept
    finally:
        first.close()
        second.close()


def test_the_activity_read_of_an_action_counts_the_roles_kept_sessions(
    manager, workspace, monkeypatch
) -> None:
    """Each learner action begins by reading its databases' activity (SandboxManager.ensure_workspace),
    which counts the role's kept sessions in the same round trip: the action's loans, given back, count
    them no more (a count of every backend of the server at each action, otherwise)."""
    from sandbox import warm

    for env in ("dev", "staging"):
        with workspace.reading(env):
            pass  # kept: two idle sessions of the role
    time.sleep(warm.COUNT_EVERY_S + 0.1)  # what those loans counted is too old to be taken
    handle, rebuilt = manager.ensure_workspace(workspace.id)
    assert not rebuilt
    assert sum(a.kept for a in handle.activity.values()) == 2

    counts: list[str] = []
    real = psycopg.Connection.execute
    monkeypatch.setattr(
        psycopg.Connection,
        "execute",
        lambda self, query, *args, **kwargs: (counts.append(query) if query == warm.KEPT_OF_ROLE else None)
        or real(self, query, *args, **kwargs),
    )
    for env in ("dev", "staging", "prod"):
        with handle.reading(env):
            pass
    assert counts == []
    monkeypatch.undo()
    assert kept_sessions(manager.servers()[0].admin_conninfo("postgres"), handle.role)[0] == 3
