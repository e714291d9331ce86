"""Exercise attempts and progress, lesson visits, content problems met while grading.

Revision ID: 0002_exercises
Revises: 0001_workspaces
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.base import UTCDateTime

revision = "0002_exercises"
down_revision = "0001_workspaces"
branch_labels = None
depends_on = None


def _learner_fk() -> sa.Column:
    return sa.Column(
        "learner_id", sa.String(32), sa.ForeignKey("learners.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "exercise_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        _learner_fk(),
        sa.Column("exercise_id", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("failed_checks", sa.Text(), nullable=False),
    )
    op.create_index("ix_exercise_attempts_learner_id", "exercise_attempts", ["learner_id"])
    op.create_index("ix_exercise_attempts_exercise_id", "exercise_attempts", ["exercise_id"])
    op.create_table(
        "exercise_progress",
        sa.Column("id", sa.Integer(), primary_key=True),
        _learner_fk(),
        sa.Column("exercise_id", sa.String(200), nullable=False),
        sa.Column("hints_opened", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("passed_at", UTCDateTime(), nullable=True),
        sa.Column("last_visit_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("learner_id", "exercise_id"),
    )
    op.create_index("ix_exercise_progress_learner_id", "exercise_progress", ["learner_id"])
    op.create_table(
        "lesson_visits",
        sa.Column("id", sa.Integer(), primary_key=True),
        _learner_fk(),
        sa.Column("lesson", sa.String(120), nullable=False),
        sa.Column("visited_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("learner_id", "lesson"),
    )
    op.create_index("ix_lesson_visits_learner_id", "lesson_visits", ["learner_id"])
    op.create_table(
        "content_problems",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("exercise_id", sa.String(200), nullable=False),
        sa.Column("learner_id", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
    )
    op.create_index("ix_content_problems_exercise_id", "content_problems", ["exercise_id"])


def downgrade() -> None:
    for table in ("content_problems", "lesson_visits", "exercise_progress", "exercise_attempts"):
        op.drop_table(table)
