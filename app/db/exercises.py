"""Exercise progress per learner: attempts (time, score, failed checks), hints opened, answers, lesson
visits, and the content problems grading met (for the instructor)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class ExerciseAttempt(Base):
    """One press of Check my work that was graded (content problems are not attempts)."""

    __tablename__ = "exercise_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    exercise_id: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    score: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    failed_checks: Mapped[str] = mapped_column(Text, default="")  # check ids, comma-separated


class ExerciseProgress(Base):
    __tablename__ = "exercise_progress"
    __table_args__ = (UniqueConstraint("learner_id", "exercise_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    exercise_id: Mapped[str] = mapped_column(String(200))
    hints_opened: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[str] = mapped_column(Text, default="{}")  # JSON: quiz check id -> choice
    passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LessonVisit(Base):
    __tablename__ = "lesson_visits"
    __table_args__ = (UniqueConstraint("learner_id", "lesson"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    lesson: Mapped[str] = mapped_column(String(120))
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContentProblemLog(Base):
    """A check that crashed or content that did not run while grading: shown on /instructor."""

    __tablename__ = "content_problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(200), index=True)
    learner_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    message: Mapped[str] = mapped_column(Text)
