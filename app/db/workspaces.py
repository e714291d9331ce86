"""Learners and their workspaces: the schema text, the migration history, what each environment has
applied, and the backups taken before prod deploys. The databases are rebuilt from these rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, UTCDateTime, utcnow
from sandbox import ENVIRONMENTS as ENVIRONMENTS


class Learner(Base):
    __tablename__ = "learners"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    workspaces: Mapped[list[SavedWorkspace]] = relationship(back_populates="learner")


class SavedWorkspace(Base):
    """What the app saves of one learner's workspace in one context (`playground`, `lesson-<slug>`,
    `exercise-<id>`): enough to rebuild its live databases, which are the sandbox library's `Workspace`."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("learner_id", "context"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    context: Mapped[str] = mapped_column(String(120))
    schema_text: Mapped[str] = mapped_column(Text, default="")
    # The sandbox library's id for the four databases; they may be gone (reaper, restart) and rebuilt.
    sandbox_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # JSON: each environment's last reading by the panel and the database activity it was taken at
    # (app.panel.readings); a cache, which may be dropped at any time.
    env_readings: Mapped[str | None] = mapped_column(Text, nullable=True)

    learner: Mapped[Learner] = relationship(back_populates="workspaces")
    migrations: Mapped[list[WorkspaceMigration]] = relationship(
        back_populates="workspace", order_by="WorkspaceMigration.name", cascade="all, delete-orphan"
    )
    env_records: Mapped[list[EnvMigration]] = relationship(
        back_populates="workspace", order_by="EnvMigration.position", cascade="all, delete-orphan"
    )
    backups: Mapped[list[Backup]] = relationship(
        back_populates="workspace", order_by="Backup.taken_at.desc()", cascade="all, delete-orphan"
    )


class WorkspaceMigration(Base):
    """`<YYYYMMDDHHMMSS>_<name>/migration.sql` of the workspace's history."""

    __tablename__ = "workspace_migrations"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sql: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    workspace: Mapped[SavedWorkspace] = relationship(back_populates="migrations")


class EnvMigration(Base):
    """A copy of one row of an environment's `_prisma_migrations`, so that a rebuilt database gets the
    same applied, failed and rolled-back history back."""

    __tablename__ = "env_migrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    env: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    migration_name: Mapped[str] = mapped_column(String(255))
    checksum: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rolled_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    logs: Mapped[str | None] = mapped_column(Text, nullable=True)
    applied_steps_count: Mapped[int] = mapped_column(Integer, default=0)

    workspace: Mapped[SavedWorkspace] = relationship(back_populates="env_records")


class Backup(Base):
    """A snapshot of an environment taken before a deploy; `applied` lists the migrations it held, so
    that a backup whose database was lost can be rebuilt (schema only: the data went with the database)."""

    __tablename__ = "backups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    env: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(255))
    snapshot: Mapped[str] = mapped_column(String(128))
    applied: Mapped[str] = mapped_column(Text, default="")
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    workspace: Mapped[SavedWorkspace] = relationship(back_populates="backups")
