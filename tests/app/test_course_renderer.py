from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup
from pygments.token import Error

from app.course.markdown import LessonRenderer, Rendered, build_markdown
from app.course.prisma_lexer import PrismaLexer

SLUGS = frozenset({"01-first", "02-second"})


def render(text: str, slug: str = "01-first") -> Rendered:
    return LessonRenderer(build_markdown(), Path("lesson.md"), slug, SLUGS).render(text)


def soup(rendered: Rendered) -> BeautifulSoup:
    return BeautifulSoup(rendered.html, "html.parser")


def test_code_is_highlighted_server_side_per_language() -> None:
    rendered = render(
        '```sql\nCREATE TABLE "User" (id SERIAL);\n```\n\n'
        "```prisma\nmodel User {\n  id Int @id\n}\n```\n\n"
        "```bash\nnpx prisma migrate dev --name init\n```\n\n"
        '```json\n{"a": 1}\n```\n'
    )
    blocks = {b["data-lang"]: b for b in soup(rendered).select("div.code-block")}
    assert set(blocks) == {"sql", "prisma", "bash", "json"}
    assert blocks["sql"].select_one("span.k").text == "CREATE"
    assert blocks["prisma"].select_one("span.kd").text == "model"
    assert blocks["prisma"].select_one("span.nd").text == "@id"
    assert blocks["bash"].select("span")  # tokens, not bare text
    assert blocks["json"].select_one("span.nt").text == '"a"'
    assert rendered.problems == []


def test_prisma_lexer_reads_a_full_schema_without_errors() -> None:
    schema = """// comment
/// doc comment
datasource db {
  provider = "postgresql"
}
enum Role {
  USER
  ADMIN
}
model Post {
  id       Int      @id @default(autoincrement())
  title    String   @db.VarChar(200)
  tags     String[]
  author   User?    @relation(fields: [authorId], references: [id], onDelete: Cascade)
  authorId Int?
  price    Decimal  @default(1.5)
  @@index([authorId])
  @@map("posts")
}
"""
    tokens = list(PrismaLexer().get_tokens(schema))
    assert not [value for kind, value in tokens if kind in Error]
    assert "".join(value for _, value in tokens) == schema


def test_mermaid_source_stays_readable_and_escaped() -> None:
    rendered = render("```mermaid\nflowchart LR\n  a[schema] --> b[(DB)]\n```\n")
    assert rendered.has_diagram
    assert '<pre class="mermaid">flowchart LR\n  a[schema] --&gt; b[(DB)]\n</pre>' in rendered.html
    assert not render("```sql\nSELECT 1;\n```\n").has_diagram


def test_links_between_lessons_become_course_urls() -> None:
    rendered = render(
        "# One\n\n## Exercises\n\n"
        "[a](./lesson-02-second.md) [b](../02-second/lesson.md#part) [c](./exercises-05.md) "
        "[d](#exercises) [e](https://example.com/x.md) [f](/lessons/02-second)\n"
    )
    hrefs = [a["href"] for a in soup(rendered).select("p a")]
    assert hrefs == [
        "/lessons/02-second",
        "/lessons/02-second#part",
        "/lessons/01-first#exercises",
        "#exercises",
        "https://example.com/x.md",
        "/lessons/02-second",
    ]
    assert rendered.problems == []


def test_broken_links_are_reported_on_their_own_line() -> None:
    rendered = render(
        "# One\n\nA paragraph that starts here\nand links [gone](./lesson-09-gone.md) on line 4,\n"
        "then [odd](notes.txt) and [no anchor](#nowhere) and [exercises](./exercises-1.md).\n"
    )
    found = [(p.line, p.severity, p.message.split(":")[0]) for p in rendered.problems]
    assert found == [
        (4, "warning", "broken link `./lesson-09-gone.md`"),
        (5, "warning", "broken link `notes.txt`"),
        (5, "warning", "broken link `#nowhere`"),
        (5, "warning", "broken link `./exercises-1.md`"),
    ]
    assert "no lesson folder `09-gone`" in rendered.problems[0].message


def test_unknown_fence_language_is_a_problem_and_renders_as_plain_text() -> None:
    rendered = render("# T\n\n```cobol\nDISPLAY 'HI'.\n```\n")
    assert [(p.line, "`cobol`" in p.message) for p in rendered.problems] == [(3, True)]
    assert soup(rendered).select_one("div.code-block pre code").text == "DISPLAY 'HI'.\n"


def test_headings_get_anchors_and_the_toc_lists_sections() -> None:
    rendered = render("# Title\n\n## First `step`\n\n### Detail\n\n## Second step\n")
    html = soup(rendered)
    assert [h["id"] for h in html.select("h1, h2, h3")] == ["title", "first-step", "detail", "second-step"]
    assert [(h.id, str(h.html)) for h in rendered.toc] == [
        ("first-step", "First <code>step</code>"),
        ("second-step", "Second step"),
    ]


def test_tables_admonitions_and_raw_html() -> None:
    rendered = render(
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        '!!! warning "Careful"\n    Dropping a column loses data.\n\n'
        "<script>alert(1)</script>\n"
    )
    html = soup(rendered)
    assert [td.text for td in html.select(".table-wrap table td")] == ["1", "2"]
    admonition = html.select_one(".admonition.warning")
    assert admonition is not None and "Careful" in admonition.text and "loses data" in admonition.text
    assert html.find("script") is None and "&lt;script&gt;" in rendered.html


def test_mis_encoded_characters_are_reported() -> None:
    rendered = render("# T\n\nAbout \u201aÄúrollback\u201aÄù\n")
    assert [(p.line, p.severity) for p in rendered.problems] == [(3, "warning")]
    assert "mis-encoded" in rendered.problems[0].message
