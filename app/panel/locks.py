"""One lock per workspace (a learner's context), so that two tabs acting on one workspace run one after
the other.

The lock is keyed by (learner, context), not by the saved row's id, so it can be taken before the row
exists: creating a workspace is then never a race between two tabs. Within a process a `threading.Lock`
per key is enough (handlers run in the thread pool). When the app state lives in PostgreSQL, several
worker processes may serve the same learner, so the lock is also a session advisory lock taken on the
connection that the action then uses for its own session: one connection per action, so an action
never holds a connection while waiting for another one from the same pool (a deadlock under load).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

# Advisory-lock namespace of the panel (the first key of the two-int form), so other users of
# advisory locks on the state database cannot collide with workspace keys.
ADVISORY_NAMESPACE = 0x4D4C  # "ML"


def advisory_key(learner_id: str, context: str) -> int:
    """A signed 32-bit key; two workspaces sharing one only wait for each other, never interleave."""
    digest = hashlib.blake2b(f"{learner_id}\0{context}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class WorkspaceLocks:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._advisory = engine.dialect.name == "postgresql"
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
