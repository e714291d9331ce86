"""The Risk view in headless Chromium: add an index to a model whose prod table has rows, Create
migration, and read that it blocks writes, with squawk's CONCURRENTLY advice; reachable by keyboard."""

from __future__ import annotations

import pytest

from tests.browser.test_panel_journeys import open_lesson, panel_server, set_schema

pytestmark = pytest.mark.browser
__all__ = ["panel_server"]  # the journeys' live server fixture, used here too


def test_create_migration_shows_the_risk_of_a_plain_index(page, panel_server: str) -> None:
    open_lesson(page, panel_server)
    set_schema(page, lambda s: s.replace("  name  String?\n", "  name  String?\n\n  @@index([name])\n"))
    page.get_by_label("Migration name").fill("index_name")
    page.get_by_role("button", name="Create migration").click()
    statement = page.locator("#panel-migration .risk-statement").first
    statement.wait_for(timeout=30_000)
    shown = statement.inner_text()
    assert "Caution" in shown and "Blocks writes on User for" in shown and "(reads go on)" in shown
    assert "ShareLock on User" in shown
    assert "require-concurrent-index-creation" in shown
    assert "Safer: Use `concurrently` to avoid blocking writes." in shown
    assert "on prod" in page.locator("#panel-migration .risk h3").inner_text()
    # On request, from the history, with the keyboard only.
    link = page.locator("#panel-history a.risk-link", has_text="Risk")
    link.focus()
    page.keyboard.press("Enter")
    again = page.locator("#panel-risk-slot .risk-statement")
    again.wait_for(timeout=30_000)
    assert "Blocks writes on User" in again.inner_text()
    page.locator("#panel-risk-slot").scroll_into_view_if_needed()
