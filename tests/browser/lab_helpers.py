"""Helpers of the learner-experience browser tests: pages at the issue's two viewports with every request
that leaves the app's own server refused, named screenshots, and axe-core's verdict."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent.parent / "test-results" / "learner-experience"
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def offline_page(browser, base: str, viewport: str, blocked: list[str] | None = None):
    """A page in a fresh context where only `base` answers: a CDN request is aborted (and recorded)."""
    context = browser.new_context(viewport=VIEWPORTS[viewport], is_mobile=viewport == "phone")

    def route(route) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            if blocked is not None:
                blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", route)
    return context.new_page()


def shot(page, name: str, full_page: bool = False) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def serious_violations(page) -> list[str]:
    page.add_script_tag(url="/static/vendor/axe.min.js")  # same origin: the CSP allows it
    return page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => `${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)"
    )


def horizontal_overflow(page) -> int:
    """How many pixels the page scrolls sideways (0 when it fits the viewport); names the culprits."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow:
        print(
            page.evaluate(
                "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >"
                " document.documentElement.clientWidth + 1).slice(0, 8)"
                ".map(e => e.tagName + '.' + e.className + '#' + e.id + ' '"
                " + Math.round(e.getBoundingClientRect().right))"
            )
        )
    return overflow
