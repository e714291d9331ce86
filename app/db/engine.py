"""Engine and session factory for the app state; Alembic brings the schema to head on open."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def default_database_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / 'migration-lab.sqlite3'}"


@dataclass
class StateDB:
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed when the block ends normally, rolled back otherwise."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets page renders read while an action writes; busy_timeout waits instead of failing on a lock.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes in WAL mode; fsyncs less
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_state_engine(url: str, connections: int = 40) -> Engine:
    """`connections`: as many as the handlers' thread pool has threads, so that no action ever waits for
    a connection, whatever else holds one."""
    pool = {"pool_size": min(connections, 10), "max_overflow": max(connections - 10, 0)}
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            # Created private before SQLite opens it (its -wal and -shm files take the same mode).
            os.close(os.open(database, os.O_CREAT | os.O_RDWR, 0o600))
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def open_state(url: str, upgrade: bool = True, connections: int = 40) -> StateDB:
    """Connect to the state database and (by default) apply the app's Alembic migrations."""
    engine = create_state_engine(url, connections)
    if upgrade:
        from app.db.migrations import upgrade_to_head

        upgrade_to_head(engine)
    return StateDB(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
