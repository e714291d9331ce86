"""Lessons from `lessons/<NN-slug>/lesson.md`, in folder-prefix order, rendered once per file version.

Each file is re-rendered when its mtime or size changes (or the set of lessons its links can reach does);
problems are collected per file, and a lesson with an error is listed as unavailable while the rest is served.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, field_validator

from app.course.markdown import Heading, LessonRenderer, build_markdown
from app.course.problems import Problem
from app.course.topics import describe_unknown, unknown_topics

LESSON_FOLDER = re.compile(r"^(\d+)-([a-z0-9]+(?:-[a-z0-9]+)*)$")
LESSON_FILE = "lesson.md"


class LessonMeta(BaseModel):
    """The front matter of a lesson (documented in lessons/README.md)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    minutes: PositiveInt
    objectives: list[str] = Field(default_factory=list)
    sandbox: bool = False
    topics: list[str] = Field(default_factory=list)

    @field_validator("topics")
    @classmethod
    def _known_topics(cls, topics: list[str]) -> list[str]:
        if unknown := unknown_topics(topics):
            raise ValueError(describe_unknown(unknown))
        return topics


@dataclass
class Lesson:
    slug: str
    number: int
    path: Path
    meta: LessonMeta | None
    html: str = ""
    toc: list[Heading] = field(default_factory=list)
    has_diagram: bool = False
    problems: list[Problem] = field(default_factory=list)
    summary_html: Markup = Markup()
    objectives_html: list[Markup] = field(default_factory=list)

    @property
    def available(self) -> bool:
        return self.meta is not None and not any(p.severity == "error" for p in self.problems)

    @property
    def title(self) -> str:
        return self.meta.title if self.meta else self.slug.split("-", 1)[1].replace("-", " ").capitalize()

    @property
    def url(self) -> str:
        return f"/lessons/{self.slug}"


class Course:
    """The lessons of one content folder; `lessons()` is cheap once every file is rendered."""

    def __init__(self, lessons_dir: Path) -> None:
        self.lessons_dir = lessons_dir
        self._md = build_markdown()
        self._cache: dict[Path, tuple[tuple[int, int, frozenset[str]], Lesson]] = {}
        self.folder_problems: list[Problem] = []

    def lessons(self) -> list[Lesson]:
        folders = self._lesson_folders()
        slugs = frozenset(slug for slug, _ in folders)
        lessons = []
        for slug, number in folders:
            path = self.lessons_dir / slug / LESSON_FILE
            try:
                stat = path.stat()
            except FileNotFoundError:
                problem = Problem(path, 1, f"lesson folder `{slug}` has no {LESSON_FILE}")
                lessons.append(Lesson(slug, number, path, None, problems=[problem]))
                continue
            key = (stat.st_mtime_ns, stat.st_size, slugs)
            cached = self._cache.get(path)
            if cached is None or cached[0] != key:
                cached = (key, self._load(path, slug, number, slugs))
                self._cache[path] = cached
            lessons.append(cached[1])
        return lessons

    def lesson(self, slug: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons() if lesson.slug == slug), None)

    def neighbours(self, slug: str) -> tuple[Lesson | None, Lesson | None]:
        """The available lessons before and after `slug`."""
        available = [lesson for lesson in self.lessons() if lesson.available or lesson.slug == slug]
        index = next(i for i, lesson in enumerate(available) if lesson.slug == slug)
        previous = available[index - 1] if index > 0 else None
        following = available[index + 1] if index + 1 < len(available) else None
        return previous, following

    def problems(self) -> list[Problem]:
        lessons = self.lessons()
        return self.folder_problems + [p for lesson in lessons for p in lesson.problems]

    def _lesson_folders(self) -> list[tuple[str, int]]:
        self.folder_problems = []
        if not self.lessons_dir.is_dir():
            self.folder_problems.append(Problem(self.lessons_dir, 1, "the lessons folder does not exist"))
            return []
        folders = []
        with os.scandir(self.lessons_dir) as entries:
            for entry in entries:
                if entry.is_dir() and (match := LESSON_FOLDER.match(entry.name)):
                    folders.append((entry.name, int(match.group(1))))
        folders.sort(key=lambda f: (f[1], f[0]))
        for (slug, number), (previous, previous_number) in zip(folders[1:], folders, strict=False):
            if number == previous_number:
                message = f"lesson number {number} is also used by `{previous}`"
                self.folder_problems.append(Problem(self.lessons_dir / slug, 1, message, "warning"))
        return folders

    def _load(self, path: Path, slug: str, number: int, slugs: frozenset[str]) -> Lesson:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problem = Problem(path, 1, f"cannot read the file: {error}")
            return Lesson(slug, number, path, None, problems=[problem])
        rendered = LessonRenderer(self._md, path, slug, slugs).render(text)
        meta, meta_problems = parse_front_matter(path, rendered.front_matter)
        lesson = Lesson(
            slug, number, path, meta, rendered.html, rendered.toc, rendered.has_diagram,
            sorted(meta_problems + rendered.problems, key=lambda p: p.line),
        )
        if meta is not None:
            lesson.summary_html = self._inline(meta.summary)
            lesson.objectives_html = [self._inline(objective) for objective in meta.objectives]
        return lesson

    def _inline(self, text: str) -> Markup:
        return Markup(self._md.renderInline(text))


def parse_front_matter(path: Path, source: str | None) -> tuple[LessonMeta | None, list[Problem]]:
    """Validate the YAML between the leading `---` lines; problems point at the offending line."""
    if source is None:
        return None, [Problem(path, 1, "no front matter: start the file with `---`, YAML fields, `---`")]
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        reason = getattr(error, "problem", None) or str(error)
        return None, [Problem(path, line, f"front matter is not valid YAML: {reason}")]
    if not isinstance(data, dict):
        return None, [Problem(path, 2, "front matter must be a mapping of fields (`title: …`)")]
    try:
        meta = LessonMeta.model_validate(data)
    except ValidationError as error:
        lines = source.splitlines()
        problems = []
        for item in error.errors():
            name = str(item["loc"][0]) if item["loc"] else ""
            line = next((i + 2 for i, text in enumerate(lines) if text.startswith(f"{name}:")), 1)
            what = "unknown field" if item["type"] == "extra_forbidden" else item["msg"].lower()
            if item["type"] == "value_error":  # our own validators' messages, as written
                what = str(item["ctx"]["error"])
            problems.append(Problem(path, line, f"front matter field `{name}`: {what}"))
        return None, problems
    if not meta.topics:
        return meta, [Problem(path, 1, "front matter has no `topics:` (see lessons/README.md)", "warning")]
    return meta, []
