"""Lesson 4's first exercise solved end to end in headless Chromium: Check my work first says what to do
(nothing done yet); the learner adds the field, reviews Prisma's SQL under Create only, puts
`SET lock_timeout` above the `ALTER TABLE`, applies it, deploys to staging then production, and Check my
work passes every check, the live-traffic one (a long report holding `User` while it deploys) included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.cluster import EmbeddedCluster
from tests.browser.conftest import served_course

EXERCISE = "/lessons/04-locks-and-downtime/exercises/01-add-a-column-behind-a-report"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def exercise_server(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, pg_cluster: EmbeddedCluster
) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("locks-browser")
    with served_course(data_dir, repo_root / "lessons", pg_cluster, "tblk") as url:
        yield url


def test_add_a_column_behind_a_report_with_a_lock_timeout(page, exercise_server):
    page.goto(exercise_server + EXERCISE)
    check = page.get_by_role("button", name="Check my work")
    check.wait_for(state="visible", timeout=30_000)

    check.click()  # nothing done yet: score 0, what to do first, not an attempt
    page.locator("#grading .grading-not-started").wait_for(timeout=60_000)
    assert page.locator("[data-attempts]").inner_text() == "0"

    editor = page.locator("#schema-editor")
    editor.fill(editor.input_value().replace("  name  String?\n", "  name  String?\n  nickname String?\n"))
    page.get_by_label("Migration name").fill("add_user_nickname")
    page.get_by_label("Create only").check()
    page.get_by_role("button", name="Create migration").click()
    draft = page.locator("#draft-sql")
    draft.wait_for(timeout=30_000)
    generated = draft.input_value()
    assert 'ALTER TABLE "User" ADD COLUMN' in generated and "lock_timeout" not in generated
    draft.fill("SET lock_timeout = '500ms';\n\n" + generated)
    page.get_by_role("button", name="Apply").click()
    page.locator("#panel-history tbody tr", has_text="add_user_nickname").wait_for(timeout=30_000)

    # Each deploy is done when its answer has come back (a text locator may find the hidden raw log).
    for env, label in (("staging", "Deploy to staging"), ("prod", "Deploy to production")):
        with page.expect_response(lambda r, env=env: f"/envs/{env}/deploy" in r.url, timeout=60_000) as done:
            page.get_by_role("button", name=label).click()
        assert done.value.ok
        page.wait_for_timeout(200)  # htmx swaps the answer in
    assert page.locator("#sandbox").get_by_text("add_user_nickname").count() >= 1

    page.get_by_role("button", name="Check my work").click()
    page.get_by_role("heading", name="All checks pass").wait_for(timeout=60_000)
    assert page.locator("#grading li.is-failed").count() == 0
    assert page.locator("#grading li.is-passed").count() >= 7  # the exercise's six checks, the built-in ones
    assert page.locator("[data-attempts]").inner_text() == "1"
