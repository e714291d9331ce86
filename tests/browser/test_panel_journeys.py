"""The sandbox panel in headless Chromium: the issue's four journeys, each leaving a screenshot in
test-results/ (the browser conftest's `new_page` takes one per page at the end of each test)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from app.main import create_app
from app.settings import Settings
from sandbox.cluster import EmbeddedCluster
from sandbox.config import SandboxSettings
from sandbox.manager import SandboxManager

LESSON = "/lessons/01-migration-concepts"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def panel_server(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, pg_cluster: EmbeddedCluster
) -> Iterator[str]:
    """The app over the test session's cluster (a cluster of its own would take seconds to start)."""
    sandboxes = SandboxManager.over_cluster(
        pg_cluster, SandboxSettings(pool_size=0, sandbox_prefix="tbrowser")
    )
    sandboxes.start(background=False)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("panel-browser"), lessons_dir=repo_root / "lessons", assets="local"
    )
    app = create_app(settings, sandboxes=sandboxes)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started or not thread.is_alive():
            break
        threading.Event().wait(0.02)
    assert server.started, "the live server did not start"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    sandboxes.stop()


def open_lesson(page, base: str):
    page.goto(base + LESSON)
    page.locator("#schema-editor").wait_for(state="visible", timeout=30_000)
    return page


def set_schema(page, transform) -> None:
    editor = page.locator("#schema-editor")
    editor.fill(transform(editor.input_value()))


def history_cell(page, name_part: str, env: str) -> str:
    row = page.locator("#panel-history tbody tr", has_text=name_part)
    index = {"dev": 0, "staging": 1, "prod": 2}[env]
    return row.locator("td").nth(index).inner_text()


def test_journey_add_a_field_create_migration_and_deploy_to_staging(page, panel_server: str) -> None:
    open_lesson(page, panel_server)
    set_schema(page, lambda s: s.replace("  name  String?\n", "  name  String?\n  bio   String?\n"))
    page.get_by_label("Migration name").fill("add_bio")
    page.get_by_role("button", name="Create migration").click()
    sql = page.locator("#panel-migration .sql-block")
    sql.wait_for(timeout=20_000)
    assert "ALTER TABLE" in sql.inner_text()
    assert "applied" in history_cell(page, "_add_bio", "dev")
    page.get_by_role("button", name="Deploy to staging").click()
    page.locator("#env-staging .notice").wait_for(timeout=20_000)
    assert "applied" in history_cell(page, "_add_bio", "staging")
    assert "pending" in history_cell(page, "_add_bio", "prod")
    page.locator("#panel-history").scroll_into_view_if_needed()


def test_journey_drop_a_column_with_rows_warns_and_asks_to_confirm(page, panel_server: str) -> None:
    open_lesson(page, panel_server)
    set_schema(page, lambda s: s.replace("  name  String?\n", ""))
    page.get_by_label("Migration name").fill("drop_name")
    page.get_by_role("button", name="Create migration").click()
    warning = page.locator("#panel-migration .warnings")
    warning.wait_for(timeout=20_000)
    assert (
        "You are about to drop the column `name` on the `User` table, which still contains 3 non-null values."
        in warning.inner_text()
    )
    assert page.locator("#panel-history tbody tr", has_text="_drop_name").count() == 0
    page.get_by_role("button", name="Create, apply to dev and lose this data").click()
    page.locator("#panel-history tbody tr", has_text="_drop_name").wait_for(timeout=20_000)
    assert "applied" in history_cell(page, "_drop_name", "dev")


def test_journey_terminal_prints_the_pending_migration(page, panel_server: str) -> None:
    open_lesson(page, panel_server)
    set_schema(page, lambda s: s.replace("  name  String?\n", "  name  String?\n  bio   String?\n"))
    page.get_by_label("Migration name").fill("add_bio")
    page.get_by_label("Create only").check()
    page.get_by_role("button", name="Create migration").click()
    page.get_by_role("button", name="Apply").wait_for(timeout=20_000)
    command = page.get_by_label("Command")
    command.fill("npx prisma migrate status")
    command.press("Enter")
    entry = page.locator("#terminal-output .terminal-entry", has_text="migrate status")
    entry.wait_for(timeout=20_000)
    shown = entry.inner_text()
    assert "Following migration have not yet been applied:" in shown and "_add_bio" in shown
    assert command.input_value() == ""  # cleared for the next command
    page.locator("#panel-terminal").scroll_into_view_if_needed()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_lesson_with_the_panel_open_has_no_serious_accessibility_violation(
    new_page, panel_server: str, scheme: str
) -> None:
    page = open_lesson(new_page(color_scheme=scheme), panel_server)
    page.get_by_role("button", name="Reset dev").click()  # also audit the confirmation step
    page.locator("#env-dev form.confirm").wait_for(timeout=20_000)
    page.add_script_tag(url="/static/vendor/axe.min.js")  # same origin: the CSP allows it
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => `${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)"
    )
    assert violations == []
