"""The exercise files of the course, reloaded when one changes, and the panel context of an exercise."""

from __future__ import annotations

from pathlib import Path

from app.exercises.loader import LoadResult, load_exercises
from app.exercises.model import Exercise
from sandbox.risk import AppQuery


def context_of(exercise: Exercise) -> str:
    return f"exercise-{exercise.lesson}-{exercise.slug}"


class ExerciseCatalog:
    """The exercise files, reloaded when one changes (added, edited or removed)."""

    def __init__(self, lessons_dir: Path) -> None:
        self.lessons_dir = Path(lessons_dir)
        self._key: tuple = ()
        self._loaded = LoadResult()

    def load(self) -> LoadResult:
        files = sorted(self.lessons_dir.glob("*/exercises/*.md"))
        key = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
        if key != self._key:
            self._loaded, self._key = load_exercises(self.lessons_dir), key
        return self._loaded

    def get(self, lesson: str, slug: str) -> Exercise | None:
        return self.load().by_id().get(f"{lesson}/{slug}")

    def of_context(self, context: str) -> Exercise | None:
        return next((e for e in self.load().exercises if context_of(e) == context), None)

    def app_queries_of(self, context: str) -> dict[str, list[AppQuery]]:
        """The application versions an exercise declares, for the panel's Risk view."""
        exercise = self.of_context(context)
        return exercise.app_queries if exercise else {}

    def of_lesson(self, lesson: str) -> list[Exercise]:
        return [e for e in self.load().exercises if e.lesson == lesson]
