"""Lesson 7's expand exercise solved end to end in headless Chromium, the way a learner does it in the
panel: edit the schema, Create only, write the expand SQL (column + sync trigger), Apply; Create only with
no schema change for the batched backfill, Apply; deploy to staging, then production; Check my work passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from sandbox.cluster import EmbeddedCluster
from tests.browser.conftest import served_course

EXERCISE = "/lessons/07-expand-and-contract/exercises/01-expand-a-rename"
pytestmark = pytest.mark.browser

EXPAND = """ALTER TABLE "User" ADD COLUMN "handle" TEXT;

CREATE FUNCTION "User_sync_handle"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW."handle" := COALESCE(NEW."handle", NEW."username");
    NEW."username" := COALESCE(NEW."username", NEW."handle");
  ELSIF NEW."username" IS DISTINCT FROM OLD."username" THEN
    NEW."handle" := NEW."username";
  ELSIF NEW."handle" IS DISTINCT FROM OLD."handle" THEN
    NEW."username" := NEW."handle";
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER "User_sync_handle" BEFORE INSERT OR UPDATE ON "User"
  FOR EACH ROW EXECUTE FUNCTION "User_sync_handle"();
"""

BACKFILL = """DO $$
DECLARE
  updated integer;
BEGIN
  LOOP
    UPDATE "User" SET "handle" = "username"
    WHERE "id" IN (SELECT "id" FROM "User" WHERE "handle" IS NULL AND "username" IS NOT NULL LIMIT 1000);
    GET DIAGNOSTICS updated = ROW_COUNT;
    EXIT WHEN updated = 0;
    COMMIT;
  END LOOP;
END $$;
"""


@pytest.fixture(scope="module")
def exercise_server(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, pg_cluster: EmbeddedCluster
) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("expand-browser")
    with served_course(data_dir, repo_root / "lessons", pg_cluster, "tbec") as url:
        yield url


def create_only(page, name: str, sql: str) -> None:
    """Create only, replace the draft's SQL, Apply; wait until the history shows it applied to dev."""
    page.get_by_label("Migration name").fill(name)
    page.get_by_label("Create only").check()
    page.get_by_role("button", name="Create migration").click()
    draft = page.locator("#draft-sql")
    draft.wait_for(timeout=30_000)
    draft.fill(sql)
    page.get_by_role("button", name="Apply", exact=True).click()
    row = page.locator("#panel-history tbody tr", has_text=f"_{name}")
    expect(row.locator("td").nth(0)).to_contain_text("applied", timeout=30_000)


def test_expand_and_backfill_with_both_app_versions_working(page, exercise_server: str) -> None:
    page.goto(exercise_server + EXERCISE)
    editor = page.locator("#schema-editor")
    editor.wait_for(state="visible", timeout=30_000)

    schema = editor.input_value()
    editor.fill(schema.replace("  username String?\n", "  username String?\n  handle   String?\n"))
    create_only(page, "add_user_handle", EXPAND)
    create_only(page, "backfill_user_handle", BACKFILL)  # no schema change: an empty migration to fill

    page.get_by_role("button", name="Deploy to staging").click()
    page.locator("#env-staging .notice").wait_for(timeout=30_000)
    page.get_by_role("button", name="Deploy to production").click()
    page.locator("#env-prod .notice").wait_for(timeout=30_000)

    page.get_by_role("button", name="Check my work").click()
    page.get_by_role("heading", name="All checks pass").wait_for(timeout=120_000)
    assert page.locator("#grading li.is-failed").count() == 0
    assert page.locator("#grading li.is-passed").count() >= 13
