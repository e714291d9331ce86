"""Which of several processes sharing a sandbox server does the background work (warm pool, reaper).

Workers of `migration-lab serve --workers N`, replicas behind a proxy and machines sharing a server all run
a manager; one refilling the pool and one reaping is enough, and more only race. The leader is the process
holding a session advisory lock on a connection of its own; when it dies, its connection closes, the lock
goes with it, and the next process that asks becomes the leader.
"""

from __future__ import annotations

import logging
import threading

import psycopg

from sandbox.providers.base import Server

log = logging.getLogger(__name__)

# The two-int advisory key: a namespace for the sandbox's locks, and this deployment's prefix.
LEADER_NAMESPACE = 0x4D4C5344  # "MLSD"


class Leadership:
    def __init__(self, server: Server, prefix: str) -> None:
        self._server = server
        self._prefix = prefix
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()

    def held(self) -> bool:
        """Whether this process leads; asks the server once when it does not (cheap: one statement)."""
        with self._lock:
            if self._conn is not None and not self._conn.closed:
                try:
                    self._conn.execute("SELECT 1")
                    return True
                except psycopg.Error:
                    log.warning("lost the sandbox leader connection; asking again")
                    self._close()
            try:
                conn = psycopg.connect(self._server.admin_conninfo(), autocommit=True, connect_timeout=5)
                row = conn.execute(
                    "SELECT pg_catalog.pg_try_advisory_lock(%s, pg_catalog.hashtext(%s))",
                    (LEADER_NAMESPACE, self._prefix),
                ).fetchone()
            except psycopg.Error:
                return False
            if row and row[0]:
                self._conn = conn
                log.info("this process runs the sandbox's warm pool and reaper")
                return True
            conn.close()
            return False

    def release(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
            self._conn = None
