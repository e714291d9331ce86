"""workspaces.env_readings: each environment's last reading by the panel (row counts, drift) and the
database activity it was taken at, so that a view reuses it while nothing could have changed.

Revision ID: 0005_env_readings
Revises: 0004_rate_limits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_env_readings"
down_revision = "0004_rate_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("env_readings", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:  # SQLite: a copy of the table without it
        batch.drop_column("env_readings")
