"""The course's promise, counted on the real content: every topic is taught by a lesson and graded by at
least two exercises (app.course.topics.LESSONS_PER_TOPIC / EXERCISES_PER_TOPIC)."""

from __future__ import annotations

from pathlib import Path

from app.course.loader import Course
from app.course.topics import coverage
from app.exercises.loader import load_exercises


def test_every_topic_is_taught_by_a_lesson_and_graded_by_two_exercises(repo_root: Path) -> None:
    lessons = [lesson.meta.topics for lesson in Course(repo_root / "lessons").lessons() if lesson.meta]
    exercises = [exercise.topics for exercise in load_exercises(repo_root / "lessons").exercises]
    short = [f"{c.topic}: {c.lessons} lesson(s), {c.exercises} exercise(s)"
             for c in coverage(lessons, exercises) if not c.covered]
    assert short == []
