"""`INSERT … ON CONFLICT DO NOTHING` for rows that are created when missing (a learner, their progress on
an exercise, a lesson visit): two tabs creating the same row at once create it once, with no error.
Reading first and inserting when absent is a race that only shows under load, as a unique violation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db.base import Base


def insert_missing(session: Session, model: type[Base], keys: tuple[str, ...], **values: Any) -> None:
    """Insert the row unless one with the same `keys` (a unique constraint's columns) exists."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=list(keys))
    session.execute(statement)
