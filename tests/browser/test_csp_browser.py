"""The Content-Security-Policy in a real browser: diagrams, htmx actions and the progress page work, and
Chromium reports no blocked script or style."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.main import create_app
from app.settings import Settings
from sandbox.cluster import EmbeddedCluster
from sandbox.config import SandboxSettings
from sandbox.manager import SandboxManager
from tests.browser.conftest import serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def csp_server(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, pg_cluster: EmbeddedCluster
) -> Iterator[str]:
    sandboxes = SandboxManager.over_cluster(pg_cluster, SandboxSettings(pool_size=0, sandbox_prefix="tcsp"))
    sandboxes.start(background=False)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("csp-browser"), lessons_dir=repo_root / "lessons", assets="local"
    )
    app = create_app(settings, sandboxes=sandboxes)
    with serve(app) as url:
        yield url
    sandboxes.stop()


def violations_of(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


def test_lesson_diagram_and_panel_action_run_under_the_policy(page, csp_server: str) -> None:
    found = violations_of(page)
    page.goto(csp_server + "/lessons/01-migration-concepts")
    page.locator("figure.diagram pre.mermaid svg").first.wait_for(timeout=20_000)
    editor = page.locator("#schema-editor")
    editor.wait_for(state="visible", timeout=30_000)
    editor.fill(editor.input_value().replace("  name  String?\n", "  name  String?\n  bio   String?\n"))
    page.get_by_label("Migration name").fill("add_bio")
    page.get_by_role("button", name="Create migration").click()
    page.locator("#panel-migration .sql-block").wait_for(timeout=20_000)
    assert found == []


def test_progress_page_copy_and_select_work_without_inline_handlers(page, csp_server: str) -> None:
    found = violations_of(page)
    page.goto(csp_server + "/progress")
    page.locator("#resume-url").focus()
    selected = page.evaluate("() => window.getSelection().toString() || document.activeElement.selectionEnd")
    assert selected  # the whole link is selected on focus, by site.js
    assert found == []


def test_reset_exercise_asks_first_and_cancelling_keeps_the_page(page, csp_server: str) -> None:
    found = violations_of(page)
    url = csp_server + "/lessons/01-migration-concepts/exercises/01-add-a-field"
    page.goto(url)
    asked: list[str] = []

    def answer(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    page.get_by_role("button", name="Reset exercise").click()
    page.wait_for_timeout(300)
    assert asked and "Reset this exercise?" in asked[0]
    assert page.url == url  # dismissed: the form was not sent
    assert found == []
