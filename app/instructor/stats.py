"""Class statistics from the attempts table: per exercise, per learner, and as CSV rows."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.exercises import ContentProblemLog, ExerciseAttempt
from app.db.workspaces import Learner
from app.exercises.model import Exercise


@dataclass
class ExerciseStats:
    exercise_id: str
    title: str
    attempts: int = 0
    learners: int = 0
    passed_learners: int = 0
    failing_checks: list[tuple[str, int]] = field(default_factory=list)

    @property
    def pass_rate(self) -> int | None:
        """Learners who passed among those who tried, in percent."""
        return round(100 * self.passed_learners / self.learners) if self.learners else None


@dataclass
class LearnerStats:
    learner_id: str
    last_seen_at: datetime | None
    attempts: int = 0
    passed: set[str] = field(default_factory=set)


def exercise_stats(session: Session, exercises: list[Exercise]) -> list[ExerciseStats]:
    attempts = list(session.scalars(select(ExerciseAttempt)))
    by_exercise: dict[str, list[ExerciseAttempt]] = defaultdict(list)
    for attempt in attempts:
        by_exercise[attempt.exercise_id].append(attempt)
    titles = {e.id: e.title for e in exercises}
    result = []
    for exercise_id in [*titles, *sorted(set(by_exercise) - set(titles))]:
        rows = by_exercise.get(exercise_id, [])
        failing = Counter(c for a in rows for c in a.failed_checks.split(",") if c)
        result.append(ExerciseStats(
            exercise_id=exercise_id,
            title=titles.get(exercise_id, f"{exercise_id} (no longer in the course)"),
            attempts=len(rows),
            learners=len({a.learner_id for a in rows}),
            passed_learners=len({a.learner_id for a in rows if a.passed}),
            failing_checks=failing.most_common(3),
        ))
    return result


def learner_stats(session: Session) -> list[LearnerStats]:
    learners = {
        learner.id: LearnerStats(learner.id, learner.last_seen_at)
        for learner in session.scalars(select(Learner).order_by(Learner.last_seen_at.desc()))
    }
    for attempt in session.scalars(select(ExerciseAttempt)):
        stats = learners.setdefault(attempt.learner_id, LearnerStats(attempt.learner_id, None))
        stats.attempts += 1
        if attempt.passed:
            stats.passed.add(attempt.exercise_id)
    return [s for s in learners.values() if s.attempts] + [s for s in learners.values() if not s.attempts]


def recent_problems(session: Session, limit: int = 50) -> list[ContentProblemLog]:
    query = select(ContentProblemLog).order_by(ContentProblemLog.created_at.desc()).limit(limit)
    return list(session.scalars(query))


CSV_HEADER = ["learner_id", "exercise_id", "attempts", "passed", "best_score", "first_attempt_at",
              "last_attempt_at"]


def csv_rows(session: Session) -> list[list[str]]:
    grouped: dict[tuple[str, str], list[ExerciseAttempt]] = defaultdict(list)
    for attempt in session.scalars(select(ExerciseAttempt).order_by(ExerciseAttempt.created_at)):
        grouped[(attempt.learner_id, attempt.exercise_id)].append(attempt)
    return [
        [learner, exercise, str(len(rows)), "yes" if any(a.passed for a in rows) else "no",
         str(max(a.score for a in rows)), rows[0].created_at.isoformat(), rows[-1].created_at.isoformat()]
        for (learner, exercise), rows in sorted(grouped.items())
    ]
