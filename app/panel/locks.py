"""One lock per workspace (a learner's context), so that two tabs acting on one workspace run one after
the other.

The lock is keyed by (learner, context), not by the saved row's id, so it can be taken before the row
exists: creating a workspace is then never a race between two tabs. Within a process a `threading.Lock`
per key is enough (handlers run in the thread pool). When the app state lives in PostgreSQL, several
worker processes may serve the same learner, so the lock is also a session advisory lock taken on the
connection that the action then uses for its own session: one connection per action, so an action
never holds a connection while waiting for another one from the same pool (a deadlock under load).
With SQLite state, worker processes of one machine (`serve --workers N`) share the file: the lock is then
also an exclusive `flock` on one of a fixed set of lock files beside it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text

# Advisory-lock namespace of the panel (the first key of the two-int form), so other users of
# advisory locks on the state database cannot collide with workspace keys.
ADVISORY_NAMESPACE = 0x4D4C  # "ML"
# Lock files for SQLite state: two workspaces sharing one only wait for each other, never interleave.
FILE_STRIPES = 256


def advisory_key(learner_id: str, context: str) -> int:
    """A signed 32-bit key; two workspaces sharing one only wait for each other, never interleave."""
    digest = hashlib.blake2b(f"{learner_id}\0{context}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class WorkspaceLocks:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._advisory = engine.dialect.name == "postgresql"
        self._lock_dir = _sqlite_lock_dir(engine)
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}

    def _lock_for(self, key: tuple[str, str]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    @contextmanager
    def hold(self, learner_id: str, context: str) -> Iterator[Connection]:
        """The workspace locked; yields the state connection holding the lock, for the action's session."""
        with self._lock_for((learner_id, context)), self._engine.connect() as conn:
            if not self._advisory:
                with self._file_lock(learner_id, context):
                    yield conn
                return
            key = {"ns": ADVISORY_NAMESPACE, "id": advisory_key(learner_id, context)}
            conn.execute(text("SELECT pg_advisory_lock(:ns, :id)"), key)
            conn.commit()  # a session-level lock outlives the transaction; the session starts its own
            try:
                yield conn
            finally:
                try:
                    conn.rollback()
                    conn.execute(text("SELECT pg_advisory_unlock(:ns, :id)"), key)
                    conn.commit()
                except Exception:
                    # Closing the connection is what releases the lock when unlocking failed: it must
                    # not go back to the pool still holding it.
                    conn.invalidate()
                    raise

    @contextmanager
    def _file_lock(self, learner_id: str, context: str) -> Iterator[None]:
        if self._lock_dir is None:
            yield
            return
        path = self._lock_dir / f"{advisory_key(learner_id, context) % FILE_STRIPES:03d}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel too if this process dies
            yield
        finally:
            os.close(fd)


def _sqlite_lock_dir(engine: Engine) -> Path | None:
    """`<state file>.locks/` beside a SQLite state file; None for PostgreSQL or an in-memory database."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    folder = Path(database).with_name(Path(database).name + ".locks")
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder
