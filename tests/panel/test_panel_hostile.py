"""A hostile learner against the panel: SQL that breaks what the panel reads, a workspace past its
quota, made-up contexts, many identities and sandboxes from one address. Each gets a message with the
way out (or a 429 with Retry-After), never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from panel_helpers import SCHEMA_WITH_BIO, Panel, soup, text

from app.db.workspaces import SavedWorkspace
from sandbox.manager import SandboxManager

BREAKS = {
    # counting rows sleeps per row: reading the table runs into the panel's read timeout
    "slow-rls": 'INSERT INTO "User" (email) SELECT g || \'@x\' FROM generate_series(1, 50) g;'
    ' ALTER TABLE "User" ENABLE ROW LEVEL SECURITY; ALTER TABLE "User" FORCE ROW LEVEL SECURITY;'
    ' CREATE POLICY slow ON "User" USING (pg_sleep(0.1) IS NOT NULL)',
    "migrations-view": "ALTER TABLE _prisma_migrations RENAME TO pm_old;"
    " CREATE VIEW _prisma_migrations AS SELECT * FROM pm_old WHERE 1 / (SELECT 0) = 1",
    "no-public-schema": "DROP SCHEMA public CASCADE",
}


@pytest.mark.parametrize("attack", BREAKS)
def test_sql_that_breaks_the_panel_gets_a_message_and_reset_dev_is_the_way_out(panel: Panel, attack) -> None:
    panel.sql(BREAKS[attack])
    page = panel.page()  # the panel still opens
    dev = page.select_one("#env-dev")
    if attack != "no-public-schema":  # without a schema, dev reads as empty: nothing to complain about
        assert "could not be read" in text(dev) and "Reset dev" in text(dev)
    created = panel.post("/migrations", {"schema": SCHEMA_WITH_BIO, "name": "add_bio"})
    assert created.status_code in (200, 409), created.text[:2000]
    if created.status_code == 409:
        assert "PostgreSQL said:" in created.text and "Reset dev" in created.text
    reset = panel.post("/envs/dev/reset", {"confirm": "1"})
    assert reset.status_code == 200, reset.text[:2000]
    assert "Database reset successful" in text(soup(reset.text).select_one("#env-dev"))
    assert "could not be read" not in text(panel.page().select_one("#env-dev"))
    panel.create(SCHEMA_WITH_BIO, "add_bio_after_reset")


@pytest.fixture
def tiny_quota(sandboxes: SandboxManager) -> Iterator[None]:
    before = sandboxes.settings.workspace_quota_mb
    sandboxes.settings.workspace_quota_mb = 2
    yield
    sandboxes.settings.workspace_quota_mb = before


def test_a_workspace_over_its_quota_refuses_sql_migrations_and_deploys_until_reset(
    panel: Panel, tiny_quota: None
) -> None:
    panel.sql("CREATE TABLE filler AS SELECT repeat('x', 1000) AS pad FROM generate_series(1, 5000)")
    refused = text(panel.sql("SELECT 1").select_one("#panel-console"))
    assert "the limit is 2 MiB per sandbox" in refused and "Reset dev" in refused
    created = panel.create(SCHEMA_WITH_BIO, "add_bio")
    assert "the limit is 2 MiB" in text(created.select_one("#panel-migration"))
    deployed = panel.deploy("staging")
    assert "the limit is 2 MiB" in text(deployed.select_one("#env-staging"))
    panel.post("/envs/dev/reset", {"confirm": "1"})
    assert "SELECT 1" in text(panel.sql("SELECT 1").select_one("#panel-console"))


def test_data_written_through_the_learners_own_session_counts_at_the_next_action(
    panel: Panel, tiny_quota: None
) -> None:
    """The quota reuses the sizes the last view measured only while no session came to the database:
    data a learner's psql wrote is measured at the next action."""
    page = panel.page()
    panel.sql("SELECT 1", env="staging")  # staging's size saved by this view
    staging = text(page.select_one("#env-staging .env-url code"))
    with psycopg.connect(staging, autocommit=True) as conn:
        conn.execute("CREATE TABLE filler AS SELECT repeat('x', 1000) AS pad FROM generate_series(1, 5000)")
    refused = text(panel.sql("SELECT 1", env="staging").select_one("#panel-console"))
    assert "the limit is 2 MiB per sandbox" in refused


def test_the_quota_measures_again_only_what_may_have_changed(
    panel: Panel, sandboxes: SandboxManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[set[str]] = []
    real = SandboxManager.workspace_bytes

    def spy(self, workspace_id, server=None, known=None):  # type: ignore[no-untyped-def]
        checked.append({name.rsplit("_", 1)[-1] for name in known or {}})
        return real(self, workspace_id, server, known)

    monkeypatch.setattr(SandboxManager, "workspace_bytes", spy)
    page = panel.page()
    panel.sql("SELECT 1")  # dev read again after it: its size with it
    panel.sql("SELECT 1")
    assert checked[-1] == {"dev", "staging", "prod"}  # only the shadow and backups measured
    with psycopg.connect(text(page.select_one("#env-prod .env-url code")), autocommit=True):
        pass  # a session came and went: prod may have changed
    panel.sql("SELECT 1")
    assert checked[-1] == {"dev", "staging"}


def test_a_huge_result_is_cut_and_the_note_says_what(panel: Panel) -> None:
    console = panel.sql("SELECT repeat('x', 3000000) AS big FROM generate_series(1, 300)")
    note = text(console.select_one("#panel-console .note"))
    assert "only the first 200 rows are shown" in note
    assert "values longer than 500 characters are cut" in note


def test_no_sandbox_for_a_page_that_has_none(client, make_panel_app) -> None:
    Panel(client)  # the learner exists and has a playground
    for context in ("lesson-99-made-up", "exercise-01-migration-concepts-99-nope", "lesson-zz"):
        response = client.get(f"/panel/{context}")
        assert response.status_code == 404 and "There is no sandbox" in response.text, context
    with client.app.state.services.state.session() as session:
        contexts = [w.context for w in session.query(SavedWorkspace).all()]
    assert contexts == ["playground"]
    assert client.get("/panel/lesson-01-migration-concepts").status_code == 200  # a real one is fine


def test_new_identities_from_one_address_are_rate_limited(make_client, monkeypatch) -> None:
    monkeypatch.setenv("MIGRATION_LAB_NEW_LEARNERS_PER_CLIENT", "3/minute")
    client = make_client()
    for _ in range(3):
        client.cookies.clear()
        assert client.get("/").status_code == 200
        assert client.get("/static/js/site.js").status_code == 200  # not counted
    client.cookies.clear()
    refused = client.get("/")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many new visitors from your address" in refused.text
    assert "allow cookies" in refused.text


def test_new_sandboxes_from_one_address_are_rate_limited(make_client, monkeypatch) -> None:
    monkeypatch.setenv("MIGRATION_LAB_WORKSPACES_PER_CLIENT", "2/minute")
    client = make_client()
    first = Panel(client)
    Panel(client, "lesson-01-migration-concepts")
    refused = client.get("/panel/lesson-02-creating-migrations")
    assert refused.status_code == 429 and "Too many new sandboxes" in refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    assert first.get().status_code == 200  # sandboxes already made keep working


def test_what_console_sql_leaves_in_its_session_is_gone_at_the_next_action(panel: Panel) -> None:
    """The console runs on a session kept between actions (a new one costs a fork and cold catalog
    caches): settings, temporary tables, advisory locks and a shadowing search path must not outlive the
    run, or the learner's next statement and the panel's own reads would see them."""
    panel.sql(
        "CREATE SCHEMA evil; CREATE TEMP TABLE scratch (x int); SELECT pg_advisory_lock(7);"
        " SET search_path = evil, public; SET statement_timeout = '1ms'"
    )
    assert "could not be read" not in text(panel.page().select_one("#env-dev"))
    after = panel.sql(
        "SELECT current_setting('search_path') AS path, current_setting('statement_timeout') AS timeout,"
        " to_regclass('pg_temp.scratch') IS NULL AS no_temp, (SELECT count(*) FROM pg_locks"
        " WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database"
        " WHERE datname = current_database())) AS advisory"
    )
    cells = [td.get_text() for td in after.select("#panel-console td")]
    assert cells[0] == '"$user", public' and cells[1] != "1ms" and cells[2:] == ["True", "0"], cells
