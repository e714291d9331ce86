"""Learners, workspaces, their migration history, per-environment applied state, backups.

Revision ID: 0001_workspaces
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.base import UTCDateTime

revision = "0001_workspaces"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learners",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "learner_id", sa.String(32), sa.ForeignKey("learners.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("context", sa.String(120), nullable=False),
        sa.Column("schema_text", sa.Text(), nullable=False),
        sa.Column("sandbox_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("learner_id", "context"),
    )
    op.create_index("ix_workspaces_learner_id", "workspaces", ["learner_id"])
    op.create_table(
        "workspace_migrations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("workspace_id", "name"),
    )
    op.create_index("ix_workspace_migrations_workspace_id", "workspace_migrations", ["workspace_id"])
    op.create_table(
        "env_migrations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("env", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("migration_name", sa.String(255), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("rolled_back_at", UTCDateTime(), nullable=True),
        sa.Column("logs", sa.Text(), nullable=True),
        sa.Column("applied_steps_count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_env_migrations_workspace_id", "env_migrations", ["workspace_id"])
    op.create_table(
        "backups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("env", sa.String(16), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("snapshot", sa.String(128), nullable=False),
        sa.Column("applied", sa.Text(), nullable=False),
        sa.Column("taken_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_backups_workspace_id", "backups", ["workspace_id"])


def downgrade() -> None:
    for table in ("backups", "env_migrations", "workspace_migrations", "workspaces", "learners"):
        op.drop_table(table)
