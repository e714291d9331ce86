"""Restarts, lost databases and two tabs: the saved workspace state is the truth."""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi.testclient import TestClient
from panel_helpers import SCHEMA_WITH_BIO, Panel, states, text

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
