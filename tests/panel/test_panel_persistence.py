"""Restarts, lost databases and two tabs: the saved workspace state is the truth."""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi.testclient import TestClient
from panel_helpers import SCHEMA_WITH_BIO, SCHEMA_WITHOUT_NAME, Panel, states, text

from app.db.workspaces import SavedWorkspace
from app.identity import COOKIE_NAME


def test_a_restart_with_lost_databases_rebuilds_them_from_the_saved_state(
    make_panel_app, sandboxes, tmp_path: Path
) -> None:
    data = tmp_path / "kept"
    with TestClient(make_panel_app(data_dir=data)) as client:
        panel = Panel(client)
        panel.create(SCHEMA_WITH_BIO, "add bio")
        panel.deploy("staging")
        cookie = client.cookies.get(COOKIE_NAME)
        with client.app.state.services.state.session() as session:
            sandbox_id = session.query(SavedWorkspace).one().sandbox_id
    sandboxes.drop_workspace(sandbox_id)  # as the reaper, or a wiped cluster after a restart, would

    with TestClient(make_panel_app(data_dir=data)) as client:
        client.cookies.set(COOKIE_NAME, cookie)
        panel = Panel(client)
        assert "rebuilt from your saved workspace" in text(panel.first_page)
        page = panel.page()
        assert "rebuilt from your saved workspace" not in text(page)  # said once
        assert "bio" in page.select_one("#schema-editor").get_text()
        assert states(page, "_init") == {"dev": "✓ applied", "staging": "✓ applied", "prod": "✓ applied"}
        assert states(page, "_add_bio") == {"dev": "✓ applied", "staging": "✓ applied", "prod": "… pending"}
        columns = panel.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'User'", "staging"
        )
        assert "bio" in [text(td) for td in columns.select(".result-table td")]
        assert "Database schema is up to date!" in text(page.select_one("#env-dev .env-status"))
        released = panel.deploy("prod")
        assert states(released, "_add_bio")["prod"] == "✓ applied"


def test_two_tabs_creating_at_once_are_serialised(panel: Panel) -> None:
    results: list[str] = []

    def create(name: str) -> None:
        response = panel.post("/migrations", {"schema": SCHEMA_WITH_BIO, "name": name})
        results.append(response.text)

    threads = [threading.Thread(target=create, args=(f"tab {i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum("Created and applied" in r for r in results) == 1
    assert sum("Already in sync" in r for r in results) == 1
    page = panel.page()
    assert len(page.select("#panel-history tbody tr")) == 2


def _mirrored(client: TestClient, env: str) -> list[tuple]:
    """The saved copy of an environment's `_prisma_migrations`, in order, with each row's id."""
    with client.app.state.services.state.session() as session:
        workspace = session.query(SavedWorkspace).one()
        rows = [r for r in workspace.env_records if r.env == env]
        return [
            (r.id, r.position, r.migration_name, r.finished_at is not None, r.rolled_back_at) for r in rows
        ]


def _in_database(panel: Panel, env: str) -> list[tuple]:
    page = panel.sql(
        "SELECT migration_name, finished_at IS NOT NULL, rolled_back_at IS NOT NULL FROM _prisma_migrations"
        " ORDER BY started_at, migration_name",
        env,
    )
    return [tuple(text(td) for td in tr.select("td")) for tr in page.select(".result-table tbody tr")]


def test_the_saved_records_follow_each_change_and_only_the_rows_that_changed_are_written(
    client: TestClient, panel: Panel
) -> None:
    panel.create(SCHEMA_WITH_BIO, "add bio")
    before = _mirrored(client, "dev")
    panel.create(SCHEMA_WITHOUT_NAME, "drop name", accept_data_loss="on")
    after = _mirrored(client, "dev")
    assert after[: len(before)] == before  # the rows already there are the same rows, unchanged
    assert [(p, name.split("_", 1)[1]) for _, p, name, _, _ in after] == [
        (0, "init"), (1, "add_bio"), (2, "drop_name"),
    ]  # fmt: skip
    released = panel.deploy("prod")
    assert len(_mirrored(client, "prod")) == 3
    backup_id = released.select("#env-prod .backups li")[0].select_one('input[name="backup_id"]')["value"]
    panel.post("/envs/prod/restore", {"backup_id": backup_id, "confirm": "1"})  # back to one record
    for env in ("dev", "prod"):
        mirrored = [
            (name, str(done), str(back is not None)) for _, _, name, done, back in _mirrored(client, env)
        ]
        assert mirrored == _in_database(panel, env)
    assert len(_mirrored(client, "prod")) == 1
