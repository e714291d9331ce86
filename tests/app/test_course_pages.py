from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.errors import AppError
from sandbox.manager import SandboxManager

LESSON_1 = "/lessons/01-migration-concepts"
LESSON_2 = "/lessons/02-creating-migrations"
# Every heading of the seed lesson (shared/seeds/000_d4d9d74b79c3c8c1.txt), with its characters as intended,
# except its leftovers: "(Long-form Enhanced)" in the title and a "Table of Contents" that repeated the page's
# own contents (its list of topics is kept in the introduction).
SEED_HEADINGS = [
    "Lesson 1: Migration Concepts",
    "Learning Objectives",
    "Why Migrations Matter",
    "What are Migrations?",
    "Why Migrations?",
    "About “rollback”",
    "Prisma Migration Workflow (High-Level)",
    "Migration Files",
    "Risks and Real-World Concerns",
    "Best Practices",
    "1) Keep migrations small and focused",
    "2) Review generated SQL",
    "3) Plan for backwards compatibility",
    "Common Pitfalls and Solutions",
    "Pitfall 1: Making breaking schema changes without a plan",
    "Pitfall 2: Treating production like development",
    "Pitfall 3: Not applying migrations in CI/staging",
    "Troubleshooting",
    "Issue: Migrations out of sync",
    "Advanced Patterns (Preview)",
    "1) Phased migrations (expand/contract)",
    "2) Deploy ordering and backwards compatibility",
    "3) Recovery plans beat “perfect rollbacks”",
    "Next Steps",
    "Additional Resources",
]
MOJIBAKE = ["‚Äú", "‚Äù", "‚Äô", "‚úÖ", "üìñ", "üíª"]


def page(client: TestClient, url: str, **headers: str) -> BeautifulSoup:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return BeautifulSoup(response.text, "html.parser")


def test_home_lists_lessons_in_order_with_summary_minutes_progress_and_continue(client: TestClient) -> None:
    html = page(client, "/")
    cards = html.select("ol.lesson-list > li.lesson-card")
    assert [card.h3.get_text(strip=True) for card in cards][:2] == [
        "Migration Concepts",
        "Creating Migrations",
    ]
    first = cards[0]
    assert first.select_one("h3 a")["href"] == LESSON_1
    assert "What migrations are" in first.select_one(".summary").text
    assert "25 min" in first.select_one(".meta").text
    assert first.select_one("[data-progress]").text.strip() == "Not started"
    assert "migrate dev" in cards[1].select_one(".summary code").text  # inline Markdown in summaries
    continue_button = html.find("a", string="Continue")
    assert continue_button is not None and continue_button["href"] == LESSON_1


def test_lesson_one_shows_every_seed_heading_the_diagram_and_no_mis_encoded_text(client: TestClient) -> None:
    response = client.get(LESSON_1)
    html = BeautifulSoup(response.text, "html.parser")
    prose = html.select_one("article .prose")
    headings = [h.get_text(strip=True) for h in prose.select("h1, h2, h3")]
    assert [h for h in SEED_HEADINGS if h not in headings] == []
    diagram = prose.select_one("figure.diagram pre.mermaid")
    assert diagram is not None and "schema[schema.prisma] --> migration[MigrationFiles]" in diagram.text
    assert [m for m in MOJIBAKE if m in response.text] == []
    text = prose.get_text()
    for intended in [
        "Prisma’s workflow",
        "“just dev tooling”",
        "✅ Practice",
        "📖 Next Lesson",
        "💻 Complete",
    ]:
        assert intended in text
    assert "Migrations are version-controlled schema changes." in text  # the key takeaways
    leftovers = ["Long-form Enhanced", "Table of Contents", "Exercises 05", "components/prisma-migrate"]
    assert [leftover for leftover in leftovers if leftover in response.text] == []
    assert "Prisma 7" in text and "prisma.config.ts" in text  # the version the course follows
    toc = [a["href"] for a in html.select("nav.toc a")]
    assert "#why-migrations-matter" in toc and "#exercises" in toc
    assert html.select_one("title").text == "Migration Concepts · Migration Lab"


def test_lesson_two_renders_tables_highlighted_code_and_admonitions(client: TestClient) -> None:
    html = page(client, LESSON_2)
    assert len(html.select(".prose table")) >= 2
    assert html.select_one('.code-block[data-lang="prisma"] span.kd').text == "model"
    assert html.select_one('.code-block[data-lang="sql"] span.k') is not None
    assert html.select(".prose .admonition")


def test_links_between_lessons_lead_to_existing_sections(client: TestClient) -> None:
    for url in [LESSON_1, LESSON_2]:
        for link in page(client, url).select("article a[href^='/lessons/']"):
            target, _, fragment = link["href"].partition("#")
            target_page = page(client, target)
            assert not fragment or target_page.find(id=fragment), f"{url} links to missing {link['href']}"
    seed_links = {a.text: a["href"] for a in page(client, LESSON_1).select("article .prose a")}
    assert seed_links["Creating Migrations"] == LESSON_2
    assert seed_links["the exercises of this lesson"] == f"{LESSON_1}#exercises"


def test_lesson_with_sandbox_reserves_the_panel_column(client: TestClient) -> None:
    html = page(client, LESSON_1)
    panel = html.select_one("aside#sandbox-panel")
    assert panel is not None and panel["aria-label"] == "Sandbox"
    assert "with-sandbox" in html.select_one(".lesson-layout")["class"]


def test_previous_and_next_links(client: TestClient) -> None:
    first, second = page(client, LESSON_1), page(client, LESSON_2)
    assert first.select_one("a[rel=prev]") is None
    assert first.select_one("a[rel=next]")["href"] == LESSON_2
    assert second.select_one("a[rel=prev]")["href"] == LESSON_1


def test_htmx_request_gets_the_content_block_only(client: TestClient) -> None:
    response = client.get(LESSON_1, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text and 'class="lesson-layout' in response.text
    assert "HX-Request" in response.headers["vary"]
    assert "HX-Request" in client.get("/").headers["vary"]


def test_not_found_as_page_fragment_and_json(client: TestClient) -> None:
    response = client.get("/lessons/99-nothing")
    assert response.status_code == 404
    html = BeautifulSoup(response.text, "html.parser")
    assert html.select_one(".error-card h1").text == "Page not found"
    assert "99-nothing" in html.select_one(".error-card").text and html.select_one("header.site-header")

    fragment = client.get("/no/such/page", headers={"HX-Request": "true"})
    assert fragment.status_code == 404 and fragment.text.lstrip().startswith('<section class="error-card"')

    api = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert api.status_code == 404
    assert api.json() == {
        "error": {"status": 404, "title": "Page not found", "message": "There is no page at this address."}
    }


def test_app_errors_and_crashes_go_through_the_error_page(make_app: Callable[..., FastAPI]) -> None:
    app = make_app()

    @app.get("/teapot")
    async def teapot() -> None:
        raise AppError(418, "Short and stout", "This server only brews tea.")

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        teapot_page = client.get("/teapot")
        assert teapot_page.status_code == 418 and "This server only brews tea." in teapot_page.text
        crashed = client.get("/crash")
        assert crashed.status_code == 500
        assert "Something went wrong" in crashed.text and "secret internals" not in crashed.text
        assert (
            client.get("/lessons/x", headers={"Accept": "application/json"}).json()["error"]["status"] == 404
        )


def test_broken_course_still_serves_its_good_lesson(
    make_client: Callable[..., TestClient], broken_course: Path
) -> None:
    client = make_client(broken_course)
    cards = page(client, "/").select("li.lesson-card")
    assert ["is-unavailable" in card["class"] for card in cards] == [False, True]
    assert "Unavailable" in cards[1].text
    good = page(client, "/lessons/01-good-lesson")
    assert good.select_one("aside#sandbox-panel") is None  # sandbox: false
    assert good.select_one(".lesson-layout")["class"] == ["lesson-layout"]
    broken = client.get("/lessons/02-broken-lesson")
    assert broken.status_code == 503 and "Lesson unavailable" in broken.text


def test_local_assets_are_served_and_only_diagram_pages_load_mermaid(client: TestClient) -> None:
    lesson = page(client, LESSON_1)
    sources = [s["src"] for s in lesson.select("script[src]")]
    assert "/static/vendor/htmx.min.js" in sources and "/static/vendor/mermaid.min.js" in sources
    assert "/static/vendor/mermaid.min.js" not in [s["src"] for s in page(client, "/").select("script[src]")]
    for url in sources + [link["href"] for link in lesson.select("link[rel=stylesheet]")]:
        assert client.get(url).status_code == 200, url


def test_cdn_assets_carry_pinned_versions_and_sri(make_client: Callable[..., TestClient]) -> None:
    client = make_client(assets="cdn")
    scripts = page(client, LESSON_1).select("script[integrity]")
    by_src = {s["src"]: s for s in scripts}
    assert {src.split("/npm/")[1].split("/")[0] for src in by_src} == {"htmx.org@2.0.11", "mermaid@11.17.2"}
    assert all(s["integrity"].startswith("sha384-") and s["crossorigin"] == "anonymous" for s in scripts)


def test_lifespan_starts_the_services_and_leaves_given_sandboxes_running(
    make_app: Callable[..., FastAPI], app_sandboxes: SandboxManager
) -> None:
    app = make_app()
    assert not hasattr(app.state, "services")  # nothing starts before the lifespan does
    with TestClient(app) as client:
        services = app.state.services
        assert services.sandboxes is app_sandboxes and services.panel.sandboxes is app_sandboxes
        assert services.exercises.panel is services.panel and services.panel.state is services.state
        assert page(client, "/").select_one("li.lesson-card [data-progress]") is not None
    workspace = app_sandboxes.create_workspace()  # the app stopped; the manager it was given did not
    app_sandboxes.drop_workspace(workspace.id)
