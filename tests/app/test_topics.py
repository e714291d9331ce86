"""The fixed topic list: documented one line each, and the coverage count the course is held to."""

from __future__ import annotations

from pathlib import Path

from app.course.loader import Course
from app.course.topics import TOPICS, coverage
from app.exercises.loader import load_exercises


def test_coverage_counts_each_lesson_and_exercise_once_per_topic() -> None:
    counted = {c.topic: c for c in coverage(
        [["what-why", "what-why", "dev-workflow"], ["dev-workflow"]],
        [["what-why"], ["what-why", "recovery"], ["dev-workflow"], []],
    )}
    assert list(counted) == list(TOPICS)
    assert (counted["what-why"].lessons, counted["what-why"].exercises) == (1, 2)
    assert (counted["dev-workflow"].lessons, counted["dev-workflow"].exercises) == (2, 1)
    assert (counted["recovery"].lessons, counted["recovery"].exercises) == (0, 1)
    assert counted["what-why"].covered
    assert not counted["dev-workflow"].covered  # one exercise is not enough
    assert not counted["recovery"].covered  # no lesson teaches it
    assert not counted["rollback"].covered


def test_every_topic_is_documented_on_one_line_of_the_authoring_guide(repo_root: Path) -> None:
    guide = (repo_root / "lessons" / "README.md").read_text()
    for topic in TOPICS:
        lines = [line for line in guide.splitlines() if line.startswith(f"| `{topic}` |")]
        assert len(lines) == 1, topic


def test_the_real_course_declares_topics_on_every_lesson_and_exercise(repo_root: Path) -> None:
    lessons = Course(repo_root / "lessons").lessons()
    exercises = load_exercises(repo_root / "lessons").exercises
    assert all(lesson.meta and lesson.meta.topics for lesson in lessons)
    assert all(exercise.topics for exercise in exercises)
