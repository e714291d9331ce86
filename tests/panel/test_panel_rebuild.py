"""Rebuilt databases get their seed rows back: the starter rows right after the starter migration, in
every environment, with the saved history unchanged; rows the learner added are gone and the panel says so."""

from __future__ import annotations

from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from panel_helpers import SCHEMA_WITH_BIO, Panel, states, text

from app.db.workspaces import EnvMigration, SavedWorkspace
from app.identity import COOKIE_NAME
from app.panel import starter
from sandbox.manager import SandboxManager
from sandbox.migrate import table

ENVS = ("dev", "staging", "prod")
STARTER_EMAILS = ["ada@example.com", "grace@example.com", "edsger@example.com"]

SCHEMA_WITH_AGE = SCHEMA_WITH_BIO.replace("  bio   String?\n", "  age   Int\n")


def sandbox_id_of(client: TestClient) -> str:
    with client.app.state.services.state.session() as session:
        sandbox_id = session.query(SavedWorkspace).one().sandbox_id
    assert sandbox_id
    return sandbox_id


def query(sandboxes: SandboxManager, sandbox_id: str, sql: str, envs=ENVS) -> dict[str, list[tuple]]:
    workspace = sandboxes.open_workspace(sandbox_id)
    assert workspace is not None, "the workspace's databases are missing"
    found = {}
    for env in envs:
        with psycopg.connect(workspace.conninfo(env)) as conn:
            found[env] = conn.execute(sql).fetchall()
    return found


def emails(sandboxes: SandboxManager, sandbox_id: str) -> dict[str, list[str]]:
    rows = query(sandboxes, sandbox_id, 'SELECT email FROM "User" ORDER BY id')
    return {env: [email for (email,) in found] for env, found in rows.items()}


def history(sandboxes: SandboxManager, sandbox_id: str) -> dict[str, list[tuple]]:
    workspace = sandboxes.open_workspace(sandbox_id)
    assert workspace is not None
    found = {}
    for env in ENVS:
        with psycopg.connect(workspace.conninfo(env), autocommit=True) as conn:
            found[env] = [
                (r.migration_name, r.checksum, r.started_at, r.finished_at, r.rolled_back_at, r.logs,
                 r.applied_steps_count)
                for r in table.list_records(conn)
            ]
    return found


def restart(make_panel_app, data: Path, cookie: str) -> TestClient:
    client = TestClient(make_panel_app(data_dir=data))
    client.__enter__()
    client.cookies.set(COOKIE_NAME, cookie)
    return client


def test_a_restart_brings_back_the_starter_rows_in_every_environment(make_panel_app, sandboxes, tmp_path):
    data = tmp_path / "kept"
    with TestClient(make_panel_app(data_dir=data)) as client:
        panel = Panel(client)
        panel.create(SCHEMA_WITH_BIO, "add bio")
        panel.deploy("staging")
        panel.sql("""INSERT INTO "User" (email) VALUES ('mine@example.com')""", "prod")
        cookie = client.cookies.get(COOKIE_NAME)
        sandbox_id = sandbox_id_of(client)
        saved = history(sandboxes, sandbox_id)
        assert emails(sandboxes, sandbox_id)["prod"] == [*STARTER_EMAILS, "mine@example.com"]
    sandboxes.drop_workspace(sandbox_id)  # a wiped cluster after a restart

    client = restart(make_panel_app, data, cookie)
    try:
        panel = Panel(client)
        note = text(panel.first_page.select_one(".panel-note"))
        assert note == (
            "Your databases were rebuilt from your saved workspace: schema, migrations, what is applied "
            "where and the example rows are back; rows you added yourself are not."
        )
        assert history(sandboxes, sandbox_id) == saved  # applied, when, how: all as it was
        assert emails(sandboxes, sandbox_id) == {env: STARTER_EMAILS for env in ENVS}
        bios = query(sandboxes, sandbox_id, 'SELECT count(*) FROM "User" WHERE bio IS NULL', ENVS[:2])
        assert bios == {"dev": [(3,)], "staging": [(3,)]}  # the rows were seeded before add_bio ran over them
        page = panel.page()
        assert page.select_one(".panel-note") is None  # said once
        assert states(page, "_add_bio") == {"dev": "✓ applied", "staging": "✓ applied", "prod": "… pending"}
        for env in ENVS:
            counts = [text(td) for td in page.select(f"#env-{env} table.tables td")]
            assert counts[counts.index("User") + 1] == "3"
        assert states(panel.deploy("prod"), "_add_bio")["prod"] == "✓ applied"
    finally:
        client.__exit__(None, None, None)


def test_the_reaper_dropping_a_workspace_loses_only_the_rows_the_learner_added(panel: Panel, sandboxes):
    panel.sql("""DELETE FROM "User" WHERE email = 'grace@example.com'""", "staging")
    panel.sql("""INSERT INTO "User" (email) VALUES ('mine@example.com')""", "dev")
    sandbox_id = sandbox_id_of(panel.client)
    saved = history(sandboxes, sandbox_id)
    assert sandbox_id in sandboxes.reap_idle(idle_seconds=0)

    page = panel.page()
    note = text(page.select_one(".panel-note"))
    assert "the example rows are back; rows you added yourself are not" in note
    assert emails(sandboxes, sandbox_id) == {env: STARTER_EMAILS for env in ENVS}
    assert history(sandboxes, sandbox_id) == saved
    assert states(page, "_init") == {env: "✓ applied" for env in ENVS}


def test_a_starter_seed_that_no_longer_fits_is_left_out_and_said_once(
    make_panel_app, sandboxes, tmp_path, monkeypatch
):
    data = tmp_path / "kept"
    with TestClient(make_panel_app(data_dir=data)) as client:
        Panel(client)
        cookie = client.cookies.get(COOKIE_NAME)
        sandbox_id = sandbox_id_of(client)
        saved = history(sandboxes, sandbox_id)
    sandboxes.drop_workspace(sandbox_id)
    # A later version of the starter rows, for a schema this older workspace never had.
    later_rows = """INSERT INTO "User" (email, nickname) VALUES ('a@b.c', 'a');"""
    monkeypatch.setattr(starter, "STARTER_ROWS", later_rows)

    client = restart(make_panel_app, data, cookie)
    try:
        note = text(Panel(client).first_page.select_one(".panel-note"))
        assert note == (
            "Your databases were rebuilt from your saved workspace: schema, migrations and what is applied "
            "where are back; rows you added yourself are not. dev, staging and prod came back without the "
            'example rows: they no longer fit the schema (column "nickname" of relation "User" does not '
            "exist)."
        )
        assert emails(sandboxes, sandbox_id) == {env: [] for env in ENVS}
        assert history(sandboxes, sandbox_id) == saved
    finally:
        client.__exit__(None, None, None)


def test_a_migration_that_fails_over_the_seed_rows_rebuilds_that_environment_without_them(
    panel: Panel, sandboxes
):
    panel.sql('DELETE FROM "User"', "dev")  # an empty table takes a required column without a default
    created = panel.create(SCHEMA_WITH_AGE, "add age")
    assert "Created and applied" in text(created), text(created)
    sandbox_id = sandbox_id_of(panel.client)
    saved = history(sandboxes, sandbox_id)
    name = next(r[0] for r in saved["dev"] if r[0].endswith("_add_age"))
    sandboxes.drop_workspace(sandbox_id)

    page = panel.page()
    note = text(page.select_one(".panel-note"))
    assert note.endswith(f"dev came back without the example rows: {name} no longer applies over them.")
    assert "the example rows are back" in note  # in staging and prod
    assert emails(sandboxes, sandbox_id) == {"dev": [], "staging": STARTER_EMAILS, "prod": STARTER_EMAILS}
    assert history(sandboxes, sandbox_id) == saved
    columns = query(
        sandboxes, sandbox_id, "SELECT column_name FROM information_schema.columns WHERE table_name = 'User'"
    )
    assert ("age",) in columns["dev"]  # the migration ran again, on the empty table
    assert states(page, "_add_age") == {"dev": "✓ applied", "staging": "… pending", "prod": "… pending"}


def test_a_workspace_with_nothing_migrated_does_not_speak_of_lost_rows(panel: Panel, sandboxes):
    sandbox_id = sandbox_id_of(panel.client)
    with panel.client.app.state.services.state.session() as session:
        session.query(EnvMigration).delete()  # as if no environment had applied anything
    sandboxes.drop_workspace(sandbox_id)

    note = text(panel.page().select_one(".panel-note"))
    assert note == (
        "Your databases were rebuilt from your saved workspace: schema, migrations and what is applied where "
        "are back."
    )
    assert query(sandboxes, sandbox_id, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == {
        env: [(0,)] for env in ENVS
    }
