from __future__ import annotations

import os
import shutil
from pathlib import Path

from app.course.loader import Course

LESSON = """---
title: {title}
summary: A summary.
minutes: 3
topics: [what-why]
---

# {title}

Text.
"""


def write_lesson(root: Path, slug: str, text: str) -> Path:
    (root / slug).mkdir(parents=True, exist_ok=True)
    path = root / slug / "lesson.md"
    path.write_text(text)
    return path


def test_real_course_loads_in_order_without_problems(repo_root: Path) -> None:
    course = Course(repo_root / "lessons")
    lessons = course.lessons()
    assert [lesson.slug for lesson in lessons][:2] == ["01-migration-concepts", "02-creating-migrations"]
    assert course.problems() == []
    first, second = lessons[:2]
    assert first.available and second.available
    assert first.title == "Migration Concepts" and second.title == "Creating Migrations"
    assert first.meta and first.meta.sandbox and first.meta.minutes > 0 and len(first.meta.objectives) == 5
    assert first.has_diagram


def test_order_follows_the_numeric_prefix(tmp_path: Path) -> None:
    write_lesson(tmp_path, "10-tenth", LESSON.format(title="Tenth"))
    write_lesson(tmp_path, "2-second", LESSON.format(title="Second"))
    (tmp_path / "notes").mkdir()  # not a lesson folder: ignored
    assert [lesson.slug for lesson in Course(tmp_path).lessons()] == ["2-second", "10-tenth"]


def test_broken_lesson_is_unavailable_and_its_problems_name_file_and_line(broken_course: Path) -> None:
    course = Course(broken_course)
    good, broken = course.lessons()
    assert good.available and good.problems == []
    assert not broken.available
    found = {(p.path.name, p.line, p.severity) for p in course.problems()}
    assert found == {("lesson.md", 4, "error"), ("lesson.md", 9, "warning"), ("lesson.md", 11, "warning")}
    messages = [p.message for p in broken.problems]
    assert "`minutes`" in messages[0]
    assert "./lesson-07-missing.md" in messages[1]
    assert "`sqll`" in messages[2]
    assert all(p.path == broken_course / "02-broken-lesson" / "lesson.md" for p in broken.problems)


def test_front_matter_problems(tmp_path: Path) -> None:
    write_lesson(tmp_path, "01-no-front-matter", "# Title\n")
    write_lesson(tmp_path, "02-bad-yaml", "---\ntitle: x\nsummary: [unclosed\nminutes: 3\n---\n")
    write_lesson(tmp_path, "03-unknown-field", "---\ntitle: x\nsummary: y\nminutes: 3\nlevel: hard\n---\n")
    write_lesson(tmp_path, "04-missing-title", "---\nsummary: y\nminutes: 3\n---\n")
    write_lesson(tmp_path, "05-list", "---\n- a\n- b\n---\n")
    (tmp_path / "06-empty-folder").mkdir()
    problems = {p.path.parent.name: p for p in Course(tmp_path).problems()}
    assert (
        problems["01-no-front-matter"].line == 1
        and "no front matter" in problems["01-no-front-matter"].message
    )
    assert problems["02-bad-yaml"].line >= 3 and "not valid YAML" in problems["02-bad-yaml"].message
    assert (problems["03-unknown-field"].line, "unknown field") == (5, "unknown field")
    assert "`level`" in problems["03-unknown-field"].message
    assert "`title`" in problems["04-missing-title"].message
    assert "mapping" in problems["05-list"].message
    assert "has no lesson.md" in problems["06-empty-folder"].message
    assert not any(lesson.available for lesson in Course(tmp_path).lessons())


def test_duplicate_lesson_numbers_are_reported(tmp_path: Path) -> None:
    write_lesson(tmp_path, "01-one", LESSON.format(title="One"))
    write_lesson(tmp_path, "01-other", LESSON.format(title="Other"))
    problems = Course(tmp_path).problems()
    assert len(problems) == 1 and "also used by `01-one`" in problems[0].message


def test_rendered_html_is_cached_until_the_file_changes(tmp_path: Path, repo_root: Path) -> None:
    shutil.copytree(repo_root / "lessons" / "02-creating-migrations", tmp_path / "02-creating-migrations")
    path = write_lesson(tmp_path, "01-migration-concepts", LESSON.format(title="First version"))
    course = Course(tmp_path)
    before = course.lesson("01-migration-concepts")
    assert before is course.lesson("01-migration-concepts")  # not rendered again

    path.write_text(LESSON.format(title="Second version"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # mtime granularity on some disks
    after = course.lesson("01-migration-concepts")
    assert after is not before and after is not None
    assert "Second version" in after.html and after.title == "Second version"


def test_links_are_checked_again_when_a_lesson_folder_appears(tmp_path: Path) -> None:
    write_lesson(tmp_path, "01-a", LESSON.format(title="A") + "\nSee [B](./lesson-02-b.md).\n")
    course = Course(tmp_path)
    assert [p.line for p in course.problems()] == [12]
    write_lesson(tmp_path, "02-b", LESSON.format(title="B"))
    assert course.problems() == []
    lesson = course.lesson("01-a")
    assert lesson is not None and 'href="/lessons/02-b"' in lesson.html


def test_topics_unknown_is_an_error_and_missing_is_a_warning(tmp_path: Path) -> None:
    fields = "---\ntitle: x\nsummary: y\nminutes: 3\n"
    write_lesson(tmp_path, "01-known", fields + "topics: [locks-downtime, recovery]\n---\n# x\n")
    write_lesson(tmp_path, "02-unknown", fields + "topics: [locks, recovery]\n---\n# x\n")
    write_lesson(tmp_path, "03-none", fields + "---\n# x\n")
    known, unknown, none = Course(tmp_path).lessons()
    assert known.available and known.problems == [] and known.meta
    assert known.meta.topics == ["locks-downtime", "recovery"]
    assert not unknown.available
    assert [(p.line, p.severity) for p in unknown.problems] == [(5, "error")]
    assert unknown.problems[0].message.startswith("front matter field `topics`: unknown topic `locks`")
    assert none.available
    assert [(p.severity, p.message) for p in none.problems] == [
        ("warning", "front matter has no `topics:` (see lessons/README.md)")
    ]
