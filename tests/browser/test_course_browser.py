from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_lesson_diagram_is_rendered_by_mermaid(page, live_server: str) -> None:
    page.goto(f"{live_server}/lessons/01-migration-concepts")
    svg = page.locator("figure.diagram pre.mermaid svg")
    svg.wait_for(state="visible", timeout=20_000)
    labels = page.locator("figure.diagram").inner_text()
    assert "schema.prisma" in labels and "ProdDB" in labels
    assert svg.bounding_box()["width"] > 200
    svg.scroll_into_view_if_needed()


def test_keyboard_reaches_the_skip_link_first_and_it_moves_focus(page, live_server: str) -> None:
    page.goto(f"{live_server}/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_have_no_serious_accessibility_violations(new_page, live_server: str, scheme: str) -> None:
    page = new_page(color_scheme=scheme)
    for path in ["/", "/lessons/02-creating-migrations", "/lessons/nowhere"]:
        page.goto(live_server + path)
        page.add_script_tag(url="/static/vendor/axe.min.js")  # same origin: the CSP allows it
        violations = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".filter(v => ['serious', 'critical'].includes(v.impact))"
            ".map(v => `${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)"
        )
        assert violations == [], f"{path} ({scheme})"
