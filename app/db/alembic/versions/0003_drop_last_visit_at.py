"""Drop exercise_progress.last_visit_at: written when a progress row was created, never read.

Revision ID: 0003_drop_last_visit_at
Revises: 0002_exercises
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.base import UTCDateTime

revision = "0003_drop_last_visit_at"
down_revision = "0002_exercises"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exercise_progress") as batch:  # SQLite: a copy of the table without it
        batch.drop_column("last_visit_at")


def downgrade() -> None:
    with op.batch_alter_table("exercise_progress") as batch:
        now = sa.func.current_timestamp()
        batch.add_column(sa.Column("last_visit_at", UTCDateTime(), nullable=False, server_default=now))
