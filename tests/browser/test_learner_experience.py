"""The learner's experience in Chromium at 1440x900 and 390x844 (issue 14), with the app served under its
default settings and every request to anything but the app refused: the course must not need a CDN.
Screenshots go to test-results/learner-experience/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lab_helpers import VIEWPORTS, offline_page, shot

from app.main import create_app
from app.settings import Settings
from sandbox.cluster import EmbeddedCluster
from sandbox.config import SandboxSettings
from sandbox.manager import SandboxManager
from tests.browser.conftest import serve

pytestmark = pytest.mark.browser
LESSON = "/lessons/01-migration-concepts"


@pytest.fixture(scope="module")
def lab_server(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, pg_cluster: EmbeddedCluster
) -> Iterator[str]:
    """The app with its default settings (assets included), over the test session's cluster."""
    sandboxes = SandboxManager.over_cluster(pg_cluster, SandboxSettings(pool_size=0, sandbox_prefix="tlab"))
    sandboxes.start(background=False)
    app = create_app(
        Settings(data_dir=tmp_path_factory.mktemp("lab-browser"), lessons_dir=repo_root / "lessons")
    )
    app.state.sandboxes = sandboxes
    with serve(app) as url:
        yield url
    sandboxes.stop()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_with_default_settings_and_no_cdn_the_panel_works(browser, lab_server: str, viewport: str) -> None:
    blocked: list[str] = []
    page = offline_page(browser, lab_server, viewport, blocked)
    page.goto(lab_server + "/playground")
    editor = page.locator("#schema-editor")
    editor.wait_for(state="visible", timeout=30_000)
    editor.fill(editor.input_value().replace("  name  String?\n", "  name  String?\n  bio   String?\n"))
    page.get_by_label("Migration name").fill("add_bio")
    page.get_by_role("button", name="Create migration").click()
    page.locator("#panel-migration .sql-block").wait_for(timeout=20_000)  # htmx swapped the answer in
    assert page.evaluate("() => typeof window.htmx") == "object"
    assert blocked == [], "the page asked the internet for something"
    shot(page, f"offline-playground-{viewport}")
    page.context.close()
