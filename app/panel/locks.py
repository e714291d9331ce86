"""One lock per workspace, so that two tabs acting on one workspace run one after the other.

Within a process a `threading.Lock` per workspace id is enough (handlers run in the thread pool). When
the app state lives in PostgreSQL, several worker processes may serve the same learner, so the lock is
also taken as a session advisory lock on the state database, keyed by the workspace id: the second
worker waits for the first instead of interleaving migrations on the same databases. SQLite state means
one process (SQLite is not shared between machines), where the thread lock already serialises.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

# Advisory-lock namespace of the panel (the first key of the two-int form), so other users of
# advisory locks on the state database cannot collide with workspace ids.
ADVISORY_NAMESPACE = 0x4D4C  # "ML"


class WorkspaceLocks:
    def __init__(self, engine: Engine | None = None) -> None:
        self._guard = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}
        self._engine = engine if engine is not None and engine.dialect.name == "postgresql" else None

    def _lock_for(self, workspace_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(workspace_id, threading.Lock())

    @contextmanager
    def hold(self, workspace_id: int) -> Iterator[None]:
        with self._lock_for(workspace_id):
            if self._engine is None:
                yield
                return
            key = {"ns": ADVISORY_NAMESPACE, "id": workspace_id}
            with self._engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:ns, :id)"), key)
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:ns, :id)"), key)
                    conn.commit()
