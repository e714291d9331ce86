"""PostgreSQL's errors in words, in one place: every message the app shows or logs from a psycopg error
comes from here (the SQL console adds the line and column; grading adds the SQLSTATE and position)."""

from __future__ import annotations

import psycopg


def reason(error: psycopg.Error) -> str:
    """PostgreSQL's primary message (the first line of psycopg's text when the server sent none)."""
    primary = error.diag.message_primary
    if primary:
        return primary.strip()
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def described(error: psycopg.Error) -> str:
    """The message with the SQLSTATE and the statement position when PostgreSQL gave them."""
    diag = error.diag
    text = reason(error)
    if diag.sqlstate:
        text = f"{text} (SQLSTATE {diag.sqlstate})"
    if diag.statement_position:
        text += f" at position {diag.statement_position}"
    return text
