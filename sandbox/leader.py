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
        self._conn: psycopg.Connection | None = None  # holding the lock when `_leads`, else for asking
        self._leads = False
        self._lock = threading.Lock()

    def held(self) -> bool:
        """Whether this process leads. Asks the server once when it does not, on a connection kept for
        asking again: every process checks before each round of background work, and a new connection at
        each check was a few new PostgreSQL backends a second for the whole life of a deployment."""
        with self._lock:
            if self._leads and self._conn is not None and not self._conn.closed:
                try:
                    self._conn.execute("SELECT 1")
                    return True
                except psycopg.Error:
                    log.warning("lost the sandbox leader connection; asking again")
                    self._close()
            try:
                if self._conn is None or self._conn.closed:
                    info = self._server.admin_conninfo()
                    self._conn = psycopg.connect(info, autocommit=True, connect_timeout=5)
                row = self._conn.execute(
                    "SELECT pg_catalog.pg_try_advisory_lock(%s, pg_catalog.hashtext(%s))",
                    (LEADER_NAMESPACE, self._prefix),
                ).fetchone()
            except psycopg.Error:
                self._close()
                return False
            self._leads = bool(row and row[0])
            if self._leads:
                log.info("this process runs the sandbox's warm pool and reaper")
            return self._leads

    def release(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        self._leads = False
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
            self._conn = None
