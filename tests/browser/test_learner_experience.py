"""The learner's experience in Chromium at 1440x900 and 390x844 (issue 14), every request to anything but
the app refused (the course must not need a CDN). Screenshots go to test-results/learner-experience/;
axe-core audits the lesson, playground, exercise and instructor pages, with the panel in failure states."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab_helpers import VIEWPORTS, horizontal_overflow, offline_page, serious_violations, shot

from app.main import create_app
from app.settings import Settings
from sandbox.cluster import EmbeddedCluster
from sandbox.config import SandboxSettings
from sandbox.manager import SandboxManager
from tests.browser.conftest import serve

pytestmark = pytest.mark.browser
LESSON = "/lessons/01-migration-concepts"
EXERCISE = "/lessons/02-creating-migrations/exercises/01-name-a-migration"
PASSWORD = "a-long-instructor-password"
viewports = pytest.mark.parametrize("viewport", list(VIEWPORTS))


@pytest.fixture(scope="module")
def sandboxes(pg_cluster: EmbeddedCluster) -> Iterator[SandboxManager]:
    manager = SandboxManager.over_cluster(pg_cluster, SandboxSettings(pool_size=0, sandbox_prefix="tlab"))
    manager.start(background=False)
    yield manager
    manager.stop()


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, sandboxes) -> Iterator[str]:
    """The app with its default settings (assets included), over the test session's cluster."""
    app = create_app(
        Settings(data_dir=tmp_path_factory.mktemp("lab-default"), lessons_dir=repo_root / "lessons"),
        sandboxes=sandboxes,
    )
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def class_server(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, sandboxes) -> Iterator[str]:
    """The same with /instructor open (the settings are read while the app is assembled)."""
    env = pytest.MonkeyPatch()
    env.setenv("MIGRATION_LAB_INSTRUCTOR_ACCESS", "true")
    env.setenv("MIGRATION_LAB_INSTRUCTOR_PASSWORD", PASSWORD)
    try:
        app = create_app(
            Settings(data_dir=tmp_path_factory.mktemp("lab-class"), lessons_dir=repo_root / "lessons"),
            sandboxes=sandboxes,
        )
    finally:
        env.undo()
    with serve(app) as url:
        yield url


def open_panel(browser, base: str, path: str, viewport: str):
    page = offline_page(browser, base, viewport)
    page.goto(base + path)
    if viewport == "phone" and page.locator(".view-switch").is_visible():
        page.get_by_role("button", name="Sandbox", exact=True).click()
    page.locator("#schema-editor").wait_for(state="visible", timeout=30_000)
    return page


def create(page, transform, name: str, create_only: bool = False) -> None:
    editor = page.locator("#schema-editor")
    editor.fill(transform(editor.input_value()))
    page.get_by_label("Migration name").fill(name)
    page.get_by_label("Create only").set_checked(create_only)
    page.get_by_role("button", name="Create migration").click()


def run_sql(page, env: str, sql: str) -> None:
    page.locator("#console-env").select_option(env)
    page.locator("#console-sql").fill(sql)
    page.locator("#panel-console").get_by_role("button", name="Run").click()
    page.locator("#panel-console .console-result").wait_for(timeout=20_000)


ADD_BIO = lambda s: s.replace("  name  String?\n", "  name  String?\n  bio   String?\n")  # noqa: E731
ADD_AGE = lambda s: s.replace("  name  String?\n", "  name  String?\n  age   Int\n")  # noqa: E731


@viewports
def test_with_default_settings_and_no_cdn_the_panel_works(browser, lab_server: str, viewport: str) -> None:
    blocked: list[str] = []
    page = offline_page(browser, lab_server, viewport, blocked)
    page.goto(lab_server + "/playground")
    page.locator("#schema-editor").wait_for(state="visible", timeout=30_000)
    create(page, ADD_BIO, "add_bio")
    page.locator("#panel-migration .sql-block").wait_for(timeout=20_000)  # htmx swapped the answer in
    assert page.evaluate("() => typeof window.htmx") == "object"
    assert blocked == [], "the page asked the internet for something"
    shot(page, f"offline-playground-{viewport}")
    page.context.close()


@viewports
def test_failed_apply_and_failed_deploy_read_in_full_with_their_ways_out(
    browser, lab_server, viewport
) -> None:
    page = open_panel(browser, lab_server, LESSON, viewport)
    # 1. A failed Apply keeps the draft editable beside PostgreSQL's error.
    create(page, ADD_BIO, "add_bio", create_only=True)
    draft = page.locator("#draft-sql")
    draft.wait_for(timeout=20_000)
    draft.fill('ALTER TABLE "User" ADD COLUMN "bio" TEXT;\nSELEC 1;\n')
    page.get_by_role("button", name="Apply", exact=True).click()
    message = page.locator("#panel-migration .failure-message")
    message.wait_for(timeout=20_000)
    assert message.inner_text().startswith('ERROR: syntax error at or near "SELEC"')
    assert "SELEC 1;" in page.locator("#panel-migration .failure-position mark").inner_text()
    assert draft.is_visible() and draft.is_editable() and "SELEC 1;" in draft.input_value()
    assert page.get_by_role("button", name="Discard").is_visible()
    page.locator("#panel-migration").scroll_into_view_if_needed()
    shot(page, f"failed-apply-{viewport}")
    assert serious_violations(page) == []
    assert horizontal_overflow(page) == 0
    page.get_by_role("button", name="Discard").click()
    page.locator("#panel-migration", has_text="Discarded").wait_for(timeout=20_000)

    # 2. A failed deploy: code, message, where, the raw log folded, and the ways out as buttons.
    run_sql(page, "dev", 'DELETE FROM "User"')
    create(page, ADD_AGE, "add_age")
    page.locator("#panel-history tbody tr", has_text="_add_age").wait_for(timeout=20_000)
    page.get_by_role("button", name="Deploy to production").click()
    failure = page.locator("#env-prod .failure")
    failure.wait_for(timeout=20_000)
    assert failure.locator(".failure-head").inner_text().startswith("P3018")
    assert "contains null values" in failure.locator(".failure-message").inner_text()
    assert not failure.locator(".raw-log pre").is_visible()  # folded until asked for
    ways = page.locator("#env-prod .ways-out")
    for name in ("Mark as rolled back", "Mark as applied", "Restore backup"):
        assert ways.get_by_role("button" if name.startswith("Mark") else "link", name=name).is_visible()
    card = page.locator("#env-prod").bounding_box()
    cards = page.locator("#panel-envs .env-cards").bounding_box()
    assert card and cards and card["width"] > cards["width"] * 0.95  # the failing card takes the row
    page.locator("#env-prod").scroll_into_view_if_needed()
    shot(page, f"failed-deploy-{viewport}")
    assert serious_violations(page) == []
    assert horizontal_overflow(page) == 0
    ways.get_by_role("button", name="Mark as rolled back").click()
    page.locator("#env-prod .notice", has_text="marked as rolled back").wait_for(timeout=20_000)
    assert page.locator("#env-prod .failure").count() == 0
    page.context.close()


@viewports
def test_drift_shows_on_the_card_and_confirmations_say_what_happens(browser, lab_server, viewport) -> None:
    page = open_panel(browser, lab_server, "/playground", viewport)
    start = page.locator("#schema-editor").input_value()
    # 3. A hotfix in prod's console: prod's card says what differs, the others stay in sync.
    run_sql(page, "prod", 'ALTER TABLE "User" ADD COLUMN hotfix TEXT')
    drift = page.locator("#env-prod .drift")
    drift.wait_for(timeout=20_000)
    assert drift.locator("li").all_inner_texts() == ["+ column hotfix on User"]
    assert page.locator("#env-staging h4").inner_text().endswith("in sync")
    drift.scroll_into_view_if_needed()
    shot(page, f"drift-{viewport}")
    assert serious_violations(page) == []
    # 5. Create only + data loss: nothing is applied, and the button says so.
    create(page, lambda s: s.replace("  name  String?\n", ""), "drop_name", create_only=True)
    button = page.locator("#panel-migration form button[type=submit]").first
    button.wait_for(timeout=20_000)
    assert button.inner_text() == "Write migration.sql (not applied)"
    assert "nothing is applied" in page.locator("#panel-migration .confirm-what").inner_text()
    page.locator("#panel-migration").get_by_role("link", name="Cancel").click()
    page.locator("#panel-migration .confirm-what").wait_for(state="detached", timeout=20_000)
    # A new @unique can fail; it loses nothing.
    create(page, lambda _: start.replace("name  String?", "name  String? @unique"), "unique_name")
    page.locator("#panel-migration h3", has_text="This migration can fail").wait_for(timeout=20_000)
    assert (
        page.locator("#panel-migration form button[type=submit]").first.inner_text()
        == "Create and apply to dev"
    )
    page.locator("#panel-migration").scroll_into_view_if_needed()
    shot(page, f"can-fail-wording-{viewport}")
    assert horizontal_overflow(page) == 0
    page.context.close()


@viewports
def test_terminal_follows_output_and_remembers_commands_backups_ask_first(
    browser, lab_server, viewport
) -> None:
    page = open_panel(browser, lab_server, "/playground", viewport)
    # 4. The terminal: output followed, history with up/down, shortcuts on screen.
    command = page.get_by_label("Command")
    for typed in ("npx prisma migrate status", "help", "npx prisma migrate status", "help"):
        command.fill(typed)
        command.press("Enter")
        page.wait_for_function(
            "n => document.querySelectorAll('#terminal-output .terminal-entry').length > n",
            arg=page.locator("#terminal-output .terminal-entry").count(),
        )
    output = page.locator("#terminal-output")
    # The panel scrolls once htmx has settled the new entry: wait for that moment, not a fixed one.
    page.wait_for_function(
        "() => { const o = document.querySelector('#terminal-output');"
        " return o.scrollHeight - o.scrollTop - o.clientHeight < 4; }",
        timeout=5_000,
    )
    assert output.evaluate("o => o.scrollHeight > o.clientHeight")  # there was something to follow
    command.press("ArrowUp")
    assert command.input_value() == "help"
    command.press("ArrowUp")
    assert command.input_value() == "npx prisma migrate status"
    command.press("ArrowDown")
    assert command.input_value() == "help"
    shortcuts = page.locator(".shortcuts").all_inner_texts()
    assert any("Ctrl+Enter" in s for s in shortcuts) and any("Tab" in s and "Esc" in s for s in shortcuts)
    page.reload()  # the history survives a reload
    page.get_by_label("Command").press("ArrowUp")
    assert page.get_by_label("Command").input_value() == "help"
    page.locator("#panel-terminal").scroll_into_view_if_needed()
    shot(page, f"terminal-{viewport}")
    # 6. Backups say what they hold, and restoring asks first; Reset dev runs the seed.
    create(page, ADD_BIO, "add_bio")
    page.locator("#panel-history tbody tr", has_text="_add_bio").wait_for(timeout=20_000)
    page.get_by_role("button", name="Deploy to production").click()
    backup = page.locator("#prod-backups li").first
    backup.wait_for(timeout=20_000)
    assert "schema and rows" in backup.inner_text()
    assert "restart" in page.locator("#prod-backups .hint").first.inner_text()  # said before relying on it
    backup.get_by_role("button", name="Restore backup").click()
    confirm = page.locator("#prod-backups form.confirm")
    confirm.wait_for(timeout=20_000)
    assert "Replace prod with this backup?" in confirm.inner_text()
    confirm.scroll_into_view_if_needed()
    shot(page, f"restore-confirmation-{viewport}")
    confirm.get_by_role("link", name="Cancel").click()
    confirm.wait_for(state="detached", timeout=20_000)
    page.get_by_role("button", name="Reset dev").click()
    page.locator("#env-dev form.confirm").get_by_role("button", name="Reset dev").click()
    page.locator("#env-dev .notice", has_text="seed").wait_for(timeout=20_000)
    assert page.locator("#env-dev .tables td").all_inner_texts() == ["User", "3"]
    page.context.close()


@viewports
def test_layout_phone_switch_split_handle_lab_mode_and_history_graph(browser, lab_server, viewport) -> None:
    page = offline_page(browser, lab_server, viewport)
    page.goto(lab_server + LESSON)
    page.locator("#schema-editor").wait_for(state="attached", timeout=30_000)
    assert horizontal_overflow(page) == 0
    if viewport == "phone":
        # 7. Lesson | Sandbox: the sandbox is one tap away, not 9,000 px down; the nav wraps.
        assert not page.locator("#schema-editor").is_visible()
        nav = page.locator(".site-nav").bounding_box()
        assert nav and nav["x"] + nav["width"] <= 390
        page.get_by_role("button", name="Sandbox", exact=True).click()
        editor_box = page.locator("#schema-editor").bounding_box()
        assert editor_box and editor_box["y"] < 844 * 1.2
        table = page.locator("#panel-history .table-scroll")
        assert table.evaluate("t => getComputedStyle(t).overflowX") == "auto"
        status = page.locator("#env-dev .env-status")
        assert status.evaluate("s => s.scrollWidth <= s.clientWidth")  # wraps instead of scrolling
        shot(page, "phone-sandbox-view")
        page.reload()  # remembered
        page.locator("#schema-editor").wait_for(state="visible", timeout=30_000)
        page.get_by_role("button", name="Lesson", exact=True).click()
        assert page.locator("h1").is_visible()
        shot(page, "phone-lesson-view")
        page.get_by_role("button", name="Sandbox", exact=True).click()
    else:
        # 10. The split handle: keys and pointer resize, remembered; Lab mode gives the sandbox the width.
        handle = page.get_by_role("separator", name="Resize the lesson and the sandbox")
        before = page.locator("#sandbox-panel").bounding_box()["width"]
        handle.focus()
        for _ in range(5):
            handle.press("ArrowLeft")
        wider = page.locator("#sandbox-panel").bounding_box()["width"]
        assert wider > before + 80
        box = handle.bounding_box()
        page.mouse.move(box["x"] + 2, box["y"] + 40)
        page.mouse.down()
        page.mouse.move(box["x"] - 150, box["y"] + 40, steps=5)
        page.mouse.up()
        dragged = page.locator("#sandbox-panel").bounding_box()["width"]
        assert dragged > wider + 60
        page.reload()
        page.locator("#sandbox-panel").wait_for()
        assert abs(page.locator("#sandbox-panel").bounding_box()["width"] - dragged) < 8
        page.get_by_role("button", name="Lab mode").click()
        assert page.locator("#sandbox-panel").bounding_box()["width"] > 1300
        assert not page.locator("article.lesson").is_visible()
        shot(page, "desktop-lab-mode")
        page.get_by_role("button", name="Lab mode").click()
        assert page.locator("article.lesson").is_visible()
    # 10. The history as a picture: a dot per migration and environment, coloured by state.
    editor = page.locator("#schema-editor")
    editor.wait_for(state="visible", timeout=30_000)
    create(page, ADD_BIO, "add_bio")
    page.locator("#panel-history tbody tr", has_text="_add_bio").wait_for(timeout=20_000)
    graph = page.locator("#panel-history svg.history-graph")
    assert graph.locator("circle.node-applied").count() == 4  # init everywhere, add_bio in dev
    assert graph.locator("circle.node-pending").count() == 2
    graph.scroll_into_view_if_needed()
    shot(page, f"history-graph-{viewport}")
    page.context.close()


@viewports
def test_passing_an_exercise_is_celebrated_with_the_way_on(browser, class_server, viewport) -> None:
    page = open_panel(browser, class_server, EXERCISE, viewport)
    solution = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id    Int    @id @default(autoincrement())
  email String @unique
  posts Post[]
}

model Post {
  id       Int    @id @default(autoincrement())
  title    String
  author   User   @relation(fields: [authorId], references: [id])
  authorId Int
}
"""
    create(page, lambda _: solution, "add_post")
    page.locator("#panel-history tbody tr", has_text="_add_post").wait_for(timeout=20_000)
    if viewport == "phone":
        page.get_by_role("button", name="Exercise", exact=True).click()
    page.get_by_role("button", name="Check my work").click()
    success = page.locator(".success-moment")
    success.wait_for(timeout=30_000)
    assert "Exercise passed" in success.inner_text()
    next_link = success.get_by_role("link", name="Next exercise")
    assert next_link.get_attribute("href").endswith("/exercises/02-rename-without-data-loss")
    success.scroll_into_view_if_needed()
    shot(page, f"exercise-passed-{viewport}")
    assert serious_violations(page) == []
    # 8. /progress lists an attempted but unfinished exercise as such.
    next_link.click()
    page.get_by_role("button", name="Check my work").wait_for(timeout=30_000)
    if viewport == "phone":
        page.get_by_role("button", name="Sandbox", exact=True).click()
    create(page, ADD_BIO, "add_bio")  # something done, so Check my work grades an attempt
    page.locator("#panel-history tbody tr", has_text="_add_bio").wait_for(timeout=20_000)
    if viewport == "phone":
        page.get_by_role("button", name="Exercise", exact=True).click()
    page.get_by_role("button", name="Check my work").click()
    page.locator("#grading .check-result").first.wait_for(timeout=30_000)
    page.goto(class_server + "/progress")
    row = page.locator("tr[data-lesson='02-creating-migrations']")
    assert "1 attempted" in row.inner_text()
    assert row.locator("li", has_text="Use create-only").locator(".attempted-badge").is_visible()
    assert horizontal_overflow(page) == 0
    shot(page, f"progress-{viewport}")
    page.context.close()


@viewports
def test_instructor_sees_pass_rates_and_failing_checks_as_charts(browser, class_server, viewport) -> None:
    page = offline_page(browser, class_server, viewport)
    token = base64.b64encode(f"teacher:{PASSWORD}".encode()).decode()
    page.context.set_extra_http_headers({"Authorization": f"Basic {token}"})
    # A learner who tries and fails, so that there is something to chart.
    learner = open_panel(browser, class_server, EXERCISE, viewport)
    tag = "\nmodel Tag {\n  id Int @id\n}\n"
    create(learner, lambda s: s + tag, "add_tag")  # two migrations where one is asked for
    learner.locator("#panel-history tbody tr", has_text="_add_tag").wait_for(timeout=20_000)
    create(learner, lambda s: s.replace("  id Int @id\n}", "  id Int @id\n  label String?\n}"), "tag_label")
    learner.locator("#panel-history tbody tr", has_text="_tag_label").wait_for(timeout=20_000)
    if viewport == "phone":
        learner.get_by_role("button", name="Exercise", exact=True).click()
    learner.get_by_role("button", name="Check my work").click()
    learner.locator("#grading .check-result").first.wait_for(timeout=30_000)
    learner.context.close()
    page.goto(class_server + "/instructor")
    bars = page.locator("#chart-pass-rate rect.chart-bar")
    assert bars.count() >= 1
    assert page.locator("#chart-failing-checks rect.chart-bar").count() >= 1
    assert "one-migration" in page.locator("#chart-failing-checks").inner_text()
    assert page.locator("#exercise-stats").is_visible()  # the numbers stay, as a table (and the CSV)
    assert horizontal_overflow(page) == 0
    shot(page, f"instructor-{viewport}", full_page=True)
    assert serious_violations(page) == []
    page.context.close()
