"""One exercise solved end to end in headless Chromium: deploy to staging, then production, through the
sandbox panel beside the instructions, then Check my work shows every check passing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.cluster import EmbeddedCluster
from tests.browser.conftest import served_course

EXERCISE = "/lessons/02-creating-migrations/exercises/03-deploy-in-order"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def exercise_server(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, pg_cluster: EmbeddedCluster
) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("exercise-browser")
    with served_course(data_dir, repo_root / "lessons", pg_cluster, "tbex") as url:
        yield url


def test_solve_the_deploy_exercise_and_see_every_check_pass(page, exercise_server):
    page.goto(exercise_server + EXERCISE)
    check = page.get_by_role("button", name="Check my work")
    check.wait_for(state="visible", timeout=30_000)

    check.click()  # nothing done yet: score 0, what to do first, not an attempt
    page.locator("#grading .grading-not-started").wait_for(timeout=30_000)
    assert page.locator("[data-attempts]").inner_text() == "0"

    page.get_by_role("button", name="Deploy to staging").click()
    applied = page.locator("#sandbox").get_by_text("Applied 20240210000000_add_user_bio")
    applied.first.wait_for(timeout=30_000)
    check.click()
    page.locator("#grading li.check-result").first.wait_for(timeout=30_000)
    assert page.locator("#grading li.is-failed").count() == 2  # prod, order
    page.get_by_role("button", name="Deploy to production").click()
    applied.nth(1).wait_for(timeout=30_000)  # the production card's notice, beside staging's

    page.get_by_role("button", name="Check my work").click()
    page.get_by_role("heading", name="All checks pass").wait_for(timeout=30_000)
    assert page.locator("#grading li.is-passed").count() == 9  # 6 of the exercise's, 3 built-in
    assert page.locator("#grading li.is-failed").count() == 0
    assert page.locator("[data-attempts]").inner_text() == "2"
