"""Lesson Markdown to HTML: tables, admonitions, heading anchors and a table of contents, code highlighted
server-side, mermaid diagrams, and links between lesson files rewritten to course URLs."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markupsafe import Markup, escape
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name

from app.course.prisma_lexer import PrismaLexer
from app.course.problems import Problem

PYGMENTS_NAMES = {
    "sql": "postgresql", "postgresql": "postgresql", "bash": "bash", "sh": "bash", "shell": "bash",
    "console": "console", "json": "json", "yaml": "yaml", "toml": "toml", "diff": "diff",
    "typescript": "typescript", "ts": "typescript", "javascript": "javascript", "js": "javascript",
}  # fmt: skip
LEXERS: dict[str, Callable[[], Lexer]] = {
    "prisma": PrismaLexer,
    **{alias: functools.partial(get_lexer_by_name, name) for alias, name in PYGMENTS_NAMES.items()},
}
PLAIN_LANGUAGES = {"", "text", "plaintext", "txt"}
DIAGRAM_LANGUAGE = "mermaid"
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
SIBLING_LESSON = re.compile(r"^(?:\./)?lesson-(\d+-[a-z0-9-]+)\.md$")
OTHER_LESSON = re.compile(r"^\.\./(\d+-[a-z0-9-]+)/(?:lesson\.md)?$")
EXERCISES_FILE = re.compile(r"^(?:\./)?exercises[\w-]*\.md$")
# UTF-8 text that was once decoded as Mac Roman: ‚Äú for “, ‚úÖ for ✅, üìñ for 📖 …
MOJIBAKE = re.compile(r"‚Ä.|‚ú.|‚ù.|üì.|üí.|üö.|√[©®∂º]")


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    html: Markup


@dataclass
class Rendered:
    html: str
    front_matter: str | None
    toc: list[Heading] = field(default_factory=list)
    has_diagram: bool = False
    problems: list[Problem] = field(default_factory=list)


def build_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin).use(admon_plugin).use(tasklists_plugin)
    md.use(anchors_plugin, min_level=1, max_level=3)
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("table_open", lambda *a: '<div class="table-wrap"><table>\n')
    md.add_render_rule("table_close", lambda *a: "</table></div>\n")
    return md


class LessonRenderer:
    """Renders one lesson file; `slugs` are the course's lesson folders, for checking links."""

    def __init__(self, md: MarkdownIt, path: Path, slug: str, slugs: frozenset[str]) -> None:
        self.md, self.path, self.slug, self.slugs = md, path, slug, slugs
        self.problems: list[Problem] = []

    def render(self, text: str) -> Rendered:
        lines = text.splitlines()
        for number, line in enumerate(lines, start=1):
            if match := MOJIBAKE.search(line):
                self._warn(number, f"mis-encoded characters `{match.group()}` (UTF-8 read as Mac Roman?)")
        env: dict[str, Any] = {}
        tokens = self.md.parse(text, env)
        front_matter = next((t.content for t in tokens if t.type == "front_matter"), None)
        toc = [
            Heading(int(t.tag[1]), str(t.attrGet("id")), self._inline_html(tokens[i + 1]))
            for i, t in enumerate(tokens)
            if t.type == "heading_open" and t.attrGet("id")
        ]
        has_diagram = False
        for token in tokens:
            if token.type == "fence":
                has_diagram |= self._check_fence(token)
            elif token.type == "inline":
                self._rewrite_links(token, lines, {h.id for h in toc})
        html = self.md.renderer.render(tokens, self.md.options, env)
        problems = sorted(self.problems, key=lambda p: p.line)
        return Rendered(html, front_matter, [h for h in toc if h.level == 2], has_diagram, problems)

    def _inline_html(self, inline: Token) -> Markup:
        renderer = cast(RendererHTML, self.md.renderer)
        return Markup(renderer.renderInline(inline.children or [], self.md.options, {}))

    def _warn(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message, "warning"))

    def _check_fence(self, token: Token) -> bool:
        language = _fence_language(token)
        if language not in LEXERS and language not in PLAIN_LANGUAGES and language != DIAGRAM_LANGUAGE:
            known = ", ".join(sorted({*LEXERS, DIAGRAM_LANGUAGE, "text"}))
            self._warn(_line(token), f"unknown code block language `{language}` (known: {known})")
        return language == DIAGRAM_LANGUAGE

    def _rewrite_links(self, inline: Token, lines: list[str], anchors: set[str]) -> None:
        for child in inline.children or []:
            if child.type != "link_open":
                continue
            href = str(child.attrGet("href") or "")
            target, error = self._resolve(href, anchors)
            if error:
                self._warn(_line_of(href, inline, lines), f"broken link `{href}`: {error}")
            elif target != href:
                child.attrSet("href", target)

    def _resolve(self, href: str, anchors: set[str]) -> tuple[str, str | None]:
        """The course URL for `href`, and why it is broken (None when it is not)."""
        if EXTERNAL.match(href) or href.startswith("/"):
            return href, None
        path, _, fragment = href.partition("#")
        if not path:
            return href, None if fragment in anchors else f"no heading with id `{fragment}` in this lesson"
        if EXERCISES_FILE.match(path):
            if "exercises" not in anchors:
                return href, "exercise links point at this lesson's `## Exercises` section, which is missing"
            return f"/lessons/{self.slug}#exercises", None
        match = SIBLING_LESSON.match(path) or OTHER_LESSON.match(path)
        if match is None:
            return href, "link to a lesson as `./lesson-NN-slug.md` or `../NN-slug/lesson.md`"
        slug = match.group(1)
        if slug not in self.slugs:
            return href, f"there is no lesson folder `{slug}`"
        return f"/lessons/{slug}" + (f"#{fragment}" if fragment else ""), None


def _fence_language(token: Token) -> str:
    words = token.info.split(maxsplit=1)
    return words[0].lower() if words else ""


def _line(token: Token) -> int:
    return token.map[0] + 1 if token.map else 1


def _line_of(needle: str, inline: Token, lines: list[str]) -> int:
    """The exact line of a link inside a multi-line paragraph or list item."""
    start, end = inline.map or (0, 0)
    for number in range(start, min(end, len(lines))):
        if f"({needle}" in lines[number]:
            return number + 1
    return start + 1


def _render_fence(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    language = _fence_language(token)
    if language == DIAGRAM_LANGUAGE:
        # The source stays readable without JavaScript; mermaid replaces it with an SVG when it loads.
        return f'<figure class="diagram"><pre class="mermaid">{escape(token.content)}</pre></figure>\n'
    # Long lines scroll sideways: tabindex lets keyboard users scroll them too.
    if language in LEXERS:
        formatter = HtmlFormatter(cssclass="highlight", wrapcode=True)
        code = highlight(token.content, LEXERS[language](), formatter)
        code = code.replace("<pre>", '<pre tabindex="0">', 1)
        return f'<div class="code-block" data-lang="{escape(language)}">{code}</div>\n'
    return f'<div class="code-block"><pre tabindex="0"><code>{escape(token.content)}</code></pre></div>\n'
