"""A view reuses an environment's last reading while nothing could have changed it (app.panel.readings),
and reads it again whenever something could: the panel's own action on it, a session the learner opened
with the card's DATABASE_URL (ended, or still open), a database replaced, and an action served by
another worker process."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from panel_helpers import SCHEMA_WITH_BIO, SCHEMA_WITHOUT_NAME, Panel, text

from app.main import create_app
from app.settings import Settings
from sandbox import Workspace
from sandbox.cluster import EmbeddedCluster
from sandbox.config import SandboxSettings
from sandbox.manager import SandboxManager
from sandbox.workspace import activity_of


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The environments the views read from their databases, in order (a spy on the one way in)."""
    seen: list[str] = []
    real = Workspace.observing
    monkeypatch.setattr(Workspace, "observing", lambda self, env: seen.append(env) or real(self, env))
    return seen


def rows(page, env: str) -> dict[str, str]:
    cells = [[text(td) for td in tr.select("td")] for tr in page.select(f"#env-{env} table.tables tbody tr")]
    return {name: count for name, count in cells}


def view(panel: Panel):
    """The panel fragment, as a refresh of the page loads it."""
    return Panel._ok(panel.get())


def url(page, env: str) -> str:
    return text(page.select_one(f"#env-{env} .env-url code"))


def workspace_of(page, sandboxes: SandboxManager) -> tuple[Workspace, str]:
    """The handle on the workspace whose cards the page shows, and its prod database's name."""
    prod = url(page, "prod").rsplit("/", 1)[-1]
    for info in sandboxes.list_workspaces():
        found = sandboxes.open_workspace(info.id)
        if found is not None and found.dbname("prod") == prod:
            return found, prod
    raise AssertionError(f"no workspace has the database {prod}")


def test_a_view_reads_only_what_the_action_could_have_changed(panel: Panel, reads: list[str]) -> None:
    view(panel)  # the readings of the first view's (new) workspace are saved now
    reads.clear()
    view(panel)
    assert reads == []
    page = panel.sql("INSERT INTO \"User\" (email) VALUES ('a@example.com')", env="staging")
    assert reads == ["staging"]
    assert rows(page, "staging")["User"] == str(int(rows(page, "prod")["User"]) + 1)
    reads.clear()
    page = panel.deploy("prod")
    assert reads == ["prod"]
    again = view(panel)  # what was reused is what was read
    assert rows(again, "staging") == rows(page, "staging")
    assert [text(card) for card in again.select(".env-card h4")] == [
        text(card) for card in page.select(".env-card h4")
    ]


def test_a_change_through_the_learners_own_session_shows_at_the_next_view(panel: Panel) -> None:
    page = view(panel)
    view(panel)
    with psycopg.connect(url(page, "prod"), autocommit=True) as conn:
        conn.execute('ALTER TABLE "User" ADD COLUMN hotfix TEXT')
        conn.execute("INSERT INTO \"User\" (email) VALUES ('psql@example.com')")
    after = view(panel)
    assert [text(li) for li in after.select("#env-prod .drift li")] == ["+ column hotfix on User"]
    assert rows(after, "prod")["User"] == str(int(rows(page, "prod")["User"]) + 1)
    assert after.select_one("#env-staging .drift") is None


def test_a_database_is_read_at_every_view_while_another_session_is_on_it(
    panel: Panel, reads: list[str]
) -> None:
    page = view(panel)
    before = int(rows(page, "staging")["User"])
    with psycopg.connect(url(page, "staging"), autocommit=True) as conn:
        for added in (1, 2):
            conn.execute('INSERT INTO "User" (email) VALUES (%s)', (f"open{added}@example.com",))
            reads.clear()
            now = view(panel)
            assert "staging" in reads and "dev" not in reads
            assert rows(now, "staging")["User"] == str(before + added)
    reads.clear()
    view(panel)  # the session ended: read once more (it was counted), then reused
    assert reads == ["staging"]
    reads.clear()
    view(panel)
    assert reads == []


def test_a_session_the_platform_opened_itself_does_not_make_the_next_view_read_again(
    panel: Panel, sandboxes: SandboxManager, reads: list[str]
) -> None:
    """A first loan opens a new session (counted by PostgreSQL as any other): the handle knows it opened
    it, and the reading taken after it holds for the next view."""
    view(panel)
    view(panel)
    for server in sandboxes.servers():
        server.warm.close()  # this process's kept sessions: the deploy's loan opens a new one
    panel.deploy("staging")
    reads.clear()
    view(panel)
    assert reads == []


def test_a_replaced_database_is_read_again(panel: Panel, sandboxes: SandboxManager, reads: list[str]) -> None:
    handle, _ = workspace_of(view(panel), sandboxes)
    view(panel)
    reads.clear()
    handle.reset_env("prod")  # as an operator's reset would: the same name, a new database
    page = view(panel)
    assert reads == ["prod"]
    assert rows(page, "prod") == {} and rows(page, "staging") != {}


@pytest.fixture
def two_workers(
    pg_cluster: EmbeddedCluster, tmp_path: Path, repo_root: Path, state_database_url: str
) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps as two worker processes are: the same state database and secret, and each its own
    sandbox manager (its own kept sessions) over the same cluster."""
    settings = Settings(
        lessons_dir=repo_root / "lessons",
        data_dir=tmp_path / "data",
        assets="local",
        database_url=state_database_url,
    )
    secret = secrets.token_urlsafe(32)  # as workers share the data folder's
    sandbox_settings = SandboxSettings(pool_size=0, sandbox_prefix="tworkers")
    managers = [SandboxManager.over_cluster(pg_cluster, sandbox_settings, secret) for _ in range(2)]
    for manager in managers:
        manager.start(background=False)
    try:
        with ExitStack() as stack:
            one, two = (stack.enter_context(TestClient(create_app(settings, sandboxes=m))) for m in managers)
            yield one, two
    finally:
        for manager in managers:
            manager.stop()


def test_what_one_worker_did_shows_in_the_other_workers_view(two_workers) -> None:
    one, two = two_workers
    panel = Panel(one)
    two.cookies.update(one.cookies)
    other = Panel(two)
    assert url(view(other), "prod") == url(view(panel), "prod")  # the same learner's workspace
    view(other)  # the second worker's views reuse readings from now on
    panel.sql('ALTER TABLE "User" ADD COLUMN hotfix TEXT', env="prod")  # on the first worker's kept session
    seen = view(other)
    assert [text(li) for li in seen.select("#env-prod .drift li")] == ["+ column hotfix on User"]


def test_drift_found_by_one_worker_is_not_searched_again_by_the_other(two_workers, monkeypatch) -> None:
    from app.panel import drift

    one, two = two_workers
    panel = Panel(one)
    two.cookies.update(one.cookies)
    other = Panel(two)
    panel.sql('ALTER TABLE "User" ADD COLUMN hotfix TEXT', env="prod")  # drift found by the first worker
    drift._SEEN.clear()  # what the second worker's process would know of it: nothing
    computed = []
    real = drift._compute
    monkeypatch.setattr(drift, "_compute", lambda *args: computed.append(args) or real(*args))
    page = other.sql("SELECT 1", env="prod")  # prod read again (the console touched it), schema unchanged
    assert [text(li) for li in page.select("#env-prod .drift li")] == ["+ column hotfix on User"]
    assert computed == []
    changed = other.sql('ALTER TABLE "User" ADD COLUMN second TEXT', env="prod")
    assert len(computed) == 1
    assert [text(li) for li in changed.select("#env-prod .drift li")] == [
        "+ column hotfix on User",
        "+ column second on User",
    ]


def test_a_session_count_started_again_is_not_taken_for_the_same(
    panel: Panel, sandboxes: SandboxManager, pg_cluster: EmbeddedCluster, reads: list[str]
) -> None:
    """Statistics reset (or a server restart) start the session counter from zero: sessions opened after
    that can bring it back to the value a reading was saved at, and must not pass for no session."""
    page = view(panel)
    handle, prod = workspace_of(page, sandboxes)
    view(panel)
    reads.clear()
    view(panel)
    assert reads == []

    def sessions() -> int:
        with handle.server.admin_connection() as conn:
            return activity_of(conn, handle.prefix, handle.id)[prod].sessions

    saved_at = sessions()
    with psycopg.connect(pg_cluster.admin_conninfo(prod), autocommit=True) as admin:
        admin.execute("SELECT pg_stat_reset()")
    inserted = 0
    while sessions() < saved_at:  # the learner's psql, once per session, until the count is back
        with psycopg.connect(url(page, "prod"), autocommit=True) as conn:
            conn.execute('INSERT INTO "User" (email) VALUES (%s)', (f"again{inserted}@example.com",))
        inserted += 1
    assert sessions() == saved_at and inserted > 0
    after = view(panel)
    assert reads == ["prod"]
    assert rows(after, "prod")["User"] == str(int(rows(page, "prod")["User"]) + inserted)


def test_create_migration_replays_and_introspects_only_what_is_not_known(panel: Panel, monkeypatch) -> None:
    """Create migration takes the replay of the history from the replays the views cached, and dev's
    drift from the reading of its unchanged fingerprint: it replays and introspects nothing more."""
    import sandbox.migrate.commands as commands
    from app.panel import drift

    monkeypatch.setattr(drift, "_CACHE", OrderedDict())  # no replay of another test's same-named history
    panel.create(SCHEMA_WITH_BIO, "add bio")  # the view after it replays (and caches) the new history
    replays: list[int] = []
    introspected: list[str] = []
    real_replay, real_introspect = drift.replay, commands.introspect
    monkeypatch.setattr(
        drift, "replay", lambda conn, ms, *a: replays.append(len(ms)) or real_replay(conn, ms, *a)
    )
    monkeypatch.setattr(
        commands,
        "introspect",
        lambda conn, *a: introspected.append(conn.info.dbname) or real_introspect(conn, *a),
    )
    created = panel.create(SCHEMA_WITHOUT_NAME, "drop name", accept_data_loss="on")
    assert "Created and applied" in text(created), text(created)[:2000]
    assert introspected == []  # dev's drift was known: none
    assert replays == [3]  # the view's, of the history with the new migration; not migrate dev's of 2


def test_drift_made_since_the_last_view_still_stops_create_migration(panel: Panel) -> None:
    """Dev's known drift holds only for its fingerprint: a column added behind the panel's back (the
    learner's own session, or the console) is drift when the next migration is created."""
    page = view(panel)
    with psycopg.connect(url(page, "dev"), autocommit=True) as conn:
        conn.execute('ALTER TABLE "User" ADD COLUMN hotfix TEXT')
    refused = panel.create(SCHEMA_WITH_BIO, "add bio")
    assert "Drift detected" in text(refused) and "Created and applied" not in text(refused)
    with psycopg.connect(url(page, "dev"), autocommit=True) as conn:
        conn.execute('ALTER TABLE "User" DROP COLUMN hotfix')
    view(panel)  # no drift again, known for this fingerprint
    panel.sql('CREATE INDEX quick ON "User" (name)')
    refused = panel.create(SCHEMA_WITH_BIO, "add bio")
    assert "Drift detected" in text(refused) and "Created and applied" not in text(refused)


def test_create_migration_on_a_dev_unchanged_since_its_reading_takes_no_fingerprint_before(
    panel: Panel, sandboxes: SandboxManager, monkeypatch
) -> None:
    """Dev read without drift by the last view, and nothing since: it is in sync with its migrations
    without a catalog query; the view after the migration reads it once."""
    from app.panel import drift

    handle, _ = workspace_of(view(panel), sandboxes)
    view(panel)
    dev = handle.dbname("dev")
    taken: list[str] = []
    real = drift.fingerprint_of
    monkeypatch.setattr(drift, "fingerprint_of", lambda conn: taken.append(conn.info.dbname) or real(conn))
    created = panel.create(SCHEMA_WITH_BIO, "add bio")
    assert "Created and applied" in text(created)
    assert taken.count(dev) == 1  # the view's, after; none before the migration
