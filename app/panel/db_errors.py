"""Database errors in the panel: the learner's (PostgreSQL refused something their SQL changed) become a
message with the way out; the sandbox's (no server) lead to a restart and a message, never a 500."""

from __future__ import annotations

import psycopg

from app.errors import AppError

WAY_OUT = (
    "SQL run in this sandbox changed something the panel relies on. Get back to a known state: Reset "
    "dev; for staging or prod, run `npx prisma migrate reset --force` in the terminal with that "
    "environment's DATABASE_URL (or restore prod from a backup); in an exercise, Reset exercise."
)


def learner_caused(exc: psycopg.Error) -> bool:
    """PostgreSQL answered with an error (it has a SQLSTATE); no SQLSTATE means no server to answer."""
    return getattr(exc, "sqlstate", None) is not None


def describe(exc: psycopg.Error) -> str:
    diag = exc.diag
    message = diag.message_primary or str(exc).strip().splitlines()[0]
    return f"PostgreSQL said: {message} ({diag.sqlstate})."


class LearnerDatabaseError(AppError):
    def __init__(self, exc: psycopg.Error) -> None:
        super().__init__(409, "Your database refused this action", f"{describe(exc)} {WAY_OUT}")


class SandboxRestarted(AppError):
    def __init__(self, up: bool, restarted: bool) -> None:
        if up and restarted:
            message = (
                "The sandbox's database server had stopped and has been restarted. Your schema and "
                "migrations are kept: the databases are rebuilt from them when you try again."
            )
        elif up:
            message = "The connection to the sandbox's database server was lost. Try again."
        else:
            message = "The sandbox's database server does not answer. Try again in a minute."
        super().__init__(503, "The sandbox is restarting", message)
        self.up = up
        self.headers = {"Retry-After": "5"}


def unreadable(env: str, exc: psycopg.Error) -> str:
    return f"{env} could not be read. {describe(exc)} {WAY_OUT}"
