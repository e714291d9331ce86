"""What a learner has done, and where Continue goes: the first lesson not yet visited or exercise not yet
passed, in course order (a lesson, then its exercises)."""

from __future__ import annotations

from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from app.course.loader import Course
from app.db import StateDB
from app.db.base import utcnow
from app.db.exercises import ExerciseAttempt, ExerciseProgress, LessonVisit
from app.db.upsert import insert_missing
from app.exercises.service import ExerciseCatalog
from app.panel import store


@dataclass
class LessonProgress:
    slug: str
    title: str
    url: str
    visited: bool
    passed: int
    total: int
    attempts: int
    exercises: list[tuple[str, str, bool]] = field(default_factory=list)  # title, url, passed
    attempted_urls: set[str] = field(default_factory=set)  # exercises tried at least once

    @property
    def label(self) -> str:
        if not self.visited and not self.attempts:
            return "Not started"
        if not self.total:
            return "Read"
        if self.passed == self.total:
            return f"Done: {self.total} of {self.total} exercises passed"
        unfinished = len(self.attempted_urls) - self.passed
        tried = f", {unfinished} attempted" if unfinished > 0 else ""
        return f"{self.passed} of {self.total} exercises passed{tried}"


class ProgressService:
    def __init__(self, state: StateDB, course: Course, catalog: ExerciseCatalog, secret_key: str) -> None:
        self.state = state
        self.course = course
        self.catalog = catalog
        self._resume = URLSafeSerializer(secret_key, salt="resume")

    def record_visit(self, learner: str, lesson: str) -> None:
        """The first visit of a lesson, once (an upsert); later visits write nothing, since nothing reads
        when a lesson was last seen."""
        with self.state.session() as session:
            seen = LessonVisit.learner_id == learner, LessonVisit.lesson == lesson
            if session.scalar(select(LessonVisit.id).where(*seen)) is not None:
                return
            store.touch_learner(session, learner)
            keys = ("learner_id", "lesson")
            insert_missing(session, LessonVisit, keys, learner_id=learner, lesson=lesson, visited_at=utcnow())

    def lessons(self, learner: str) -> list[LessonProgress]:
        with self.state.session() as session:
            visits = select(LessonVisit.lesson).where(LessonVisit.learner_id == learner)
            visited = set(session.scalars(visits))
            passed = set(session.scalars(
                select(ExerciseProgress.exercise_id).where(
                    ExerciseProgress.learner_id == learner, ExerciseProgress.passed_at.is_not(None)
                )
            ))
            attempted = list(session.scalars(
                select(ExerciseAttempt.exercise_id).where(ExerciseAttempt.learner_id == learner)
            ))
        result = []
        for lesson in self.course.lessons():
            if not lesson.available:
                continue
            exercises = self.catalog.of_lesson(lesson.slug)
            ids = {e.id for e in exercises}
            result.append(LessonProgress(
                slug=lesson.slug, title=lesson.title, url=lesson.url, visited=lesson.slug in visited,
                passed=len(ids & passed), total=len(ids), attempts=sum(1 for a in attempted if a in ids),
                exercises=[
                    (e.title, f"/lessons/{e.lesson}/exercises/{e.slug}", e.id in passed) for e in exercises
                ],
                attempted_urls={
                    f"/lessons/{e.lesson}/exercises/{e.slug}" for e in exercises if e.id in set(attempted)
                },
            ))
        return result

    @staticmethod
    def continue_url(lessons: list[LessonProgress]) -> str | None:
        for lesson in lessons:
            if not lesson.visited:
                return lesson.url
            for _, url, passed in lesson.exercises:
                if not passed:
                    return url
        return lessons[-1].url if lessons else None

    def resume_token(self, learner: str) -> str:
        return str(self._resume.dumps(learner))

    def learner_of(self, token: str) -> str | None:
        try:
            value = self._resume.loads(token)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None
