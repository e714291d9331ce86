"""Open connections to workspace databases, kept between the platform's own reads.

A new PostgreSQL backend costs a fork and starts with empty catalog caches: the first catalog queries of
a session (the panel's status, row counts and drift fingerprint) cost about ten times what they cost on a
session that ran them before. Every panel view reads each environment, so keeping those sessions open for
a little while halves the database's work per learner action.

What keeps this safe: a kept connection is the workspace role's own (its rights and limits, counted in its
connection limit), only ever lent to one caller at a time, reset with `DISCARD ALL` as soon as it comes
back (so nothing survives a loan: settings a learner's function or migration set, role, temporary tables,
prepared statements, and advisory locks such as the migration lock, which must not outlive the command),
and closed instead of kept when the caller failed or left a transaction open. A workspace reset or a copy
ends its sessions on the server; such a connection fails the check before its next loan and is replaced.

Kept connections count in the role's connection limit, and with several worker processes each keeps its
own: so a connection is kept only while the role has fewer than `per_role` kept ones on the server, in
every process together (counted in pg_stat_activity by application_name: `migration-lab-kept` while
waiting in a process, which `DISCARD ALL` restores, and `migration-lab-lent` while lent, since a lent
session is idle between its caller's statements and would otherwise count as kept). The rest of the
limit stays free for the learner's own sessions and the platform's fresh ones (live traffic).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg.pq import TransactionStatus

IDLE_S = 30.0
# A class's worth: each learner's panel view reads three environments, and a session opened for each
# view instead (64 were kept before) made PostgreSQL's CPU per action 1.75 times higher at 40 learners
# (`migration-lab bench --only workers`). The binding bound is `per_role`, counted over every process.
MAX_IDLE = 1024
PER_ROLE = 4
COUNT_EVERY_S = 1.0
APPLICATION_NAME = "migration-lab-kept"
LENT_NAME = "migration-lab-lent"
# Set on every loan; also tells a dead session from a live one in the same round trip.
LEND = f"SET application_name = '{LENT_NAME}'"
# Qualified throughout: the role's own search path could put a learner's view or function first. The
# role's backends are picked by their ids before any row is built: the pg_stat_activity view builds a
# row (thirty columns, the query text among them) for every backend of the server, a class's thousand.
KEPT_OF_ROLE = (
    "SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_get_backend_idset() AS b(id),"
    " LATERAL pg_catalog.pg_stat_get_activity(pg_catalog.pg_stat_get_backend_pid(b.id)) AS a"
    " WHERE pg_catalog.pg_stat_get_backend_userid(b.id) OPERATOR(pg_catalog.=)"
    " (SELECT r.oid FROM pg_catalog.pg_roles r"
    "  WHERE r.rolname OPERATOR(pg_catalog.=) pg_catalog.current_user())"
    " AND a.application_name OPERATOR(pg_catalog.=) %s AND a.state OPERATOR(pg_catalog.=) 'idle'"
    " AND a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()"
)


class WarmConnections:
    """At most `max_idle` idle connections in this process, `per_role` of a role on its server, each
    closed after `idle_s` seconds unused."""

    def __init__(self, max_idle: int = MAX_IDLE, idle_s: float = IDLE_S, per_role: int = PER_ROLE) -> None:
        self.max_idle = max_idle
        self.idle_s = idle_s
        self.per_role = per_role
        self._counted: dict[str, tuple[int, float]] = {}  # by role: (kept sessions, counted when)
        # Oldest first, for expiry and eviction; and by conninfo, so a loan finds one without a scan.
        self._idle: OrderedDict[int, tuple[str, psycopg.Connection, float]] = OrderedDict()
        self._by_info: dict[str, dict[int, None]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def connection(
        self, conninfo: str, opened: Callable[[], None] | None = None
    ) -> Iterator[psycopg.Connection]:
        """An autocommit connection to `conninfo`, as fresh as a new one but usually already open.
        `opened` is called when a new session had to be opened for it."""
        conn = self._take(conninfo)
        if conn is None:
            conn = self._connect(conninfo)
            if opened is not None:
                opened()
        kept = False
        try:
            yield conn
            kept = not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE
        finally:
            if kept:
                self._give(conninfo, conn)
            else:
                conn.close()

    @staticmethod
    def _connect(conninfo: str) -> psycopg.Connection:
        conn = psycopg.connect(conninfo, autocommit=True, application_name=APPLICATION_NAME)
        # No server-side prepared statements: `DISCARD ALL` drops them behind psycopg's back.
        conn.prepare_threshold = None
        try:
            conn.execute(LEND)
        except BaseException:
            conn.close()
            raise
        return conn

    def _kept_of_role(self, conn: psycopg.Connection) -> int:
        """How many other sessions of the connection's role are kept on its server. Counted in
        pg_stat_activity at most once a second per role (reading it copies every backend's status): in
        between, this process adds the ones it keeps to the last count."""
        key = _role_of(conn)
        now = time.monotonic()
        with self._lock:
            counted = self._counted.get(key)
            if counted is not None and now - counted[1] < COUNT_EVERY_S:
                return counted[0]
        row = conn.execute(KEPT_OF_ROLE, (APPLICATION_NAME,)).fetchone()
        kept = int(row[0]) if row else self.per_role
        with self._lock:
            self._counted[key] = (kept, now)
            if len(self._counted) > 4 * self.max_idle:  # forget roles not seen for a while
                for old in [k for k, (_, at) in self._counted.items() if now - at >= COUNT_EVERY_S]:
                    del self._counted[old]
        return kept

    def note_kept(self, role: str, kept: int) -> None:
        """`role`'s kept sessions as just counted by the caller (the activity read that begins each
        learner action counts them in the same round trip): the loans of the action count no more."""
        with self._lock:
            self._counted[role] = (kept, time.monotonic())

    def _adjust_count(self, conn: psycopg.Connection, change: int) -> None:
        """This process kept (+1) or lent again (-1) a session of the connection's role."""
        with self._lock:
            self._adjust_locked(conn, change)

    def _adjust_locked(self, conn: psycopg.Connection, change: int) -> None:
        counted = self._counted.get(key := _role_of(conn))
        if counted is not None:
            self._counted[key] = (max(0, counted[0] + change), counted[1])

    def close(self) -> None:
        with self._lock:
            idle, self._idle, self._by_info = list(self._idle.values()), OrderedDict(), {}
        for _, conn, _ in idle:
            conn.close()

    def _take(self, conninfo: str) -> psycopg.Connection | None:
        while True:
            found = None
            with self._lock:
                stale = self._expire(time.monotonic())
                ids = self._by_info.get(conninfo)
                if ids:
                    found = self._idle.pop(ids.popitem()[0])[1]
                    if not ids:
                        del self._by_info[conninfo]
            for conn in stale:
                conn.close()
            if found is None:
                return None
            self._adjust_count(found, -1)  # lent again: no longer kept
            try:
                found.execute(LEND)  # and still alive? (one round trip)
                return found
            except psycopg.Error:  # its session was ended (workspace reset, copy, server restart)
                found.close()

    def _expire(self, now: float) -> list[psycopg.Connection]:
        """Take out the connections idle for too long (the oldest come first). Under the lock."""
        stale = []
        while self._idle:
            key, (info, conn, since) = next(iter(self._idle.items()))
            if now - since <= self.idle_s and len(self._idle) <= self.max_idle:
                break
            stale.append(self._forget(key, info))
        return stale

    def _forget(self, key: int, info: str) -> psycopg.Connection:
        """Take a kept connection out to close it (expired or surplus): no longer kept. Under the lock."""
        conn = self._idle.pop(key)[1]
        ids = self._by_info[info]
        del ids[key]
        if not ids:
            del self._by_info[info]
        # Else the role's count keeps a session that is gone, and the role's next session (a
        # learner's third environment) is closed instead of kept, at every view, until the next count.
        self._adjust_locked(conn, -1)
        return conn

    def _give(self, conninfo: str, conn: psycopg.Connection) -> None:
        try:
            conn.execute("DISCARD ALL")
            kept = self._kept_of_role(conn)
        except psycopg.Error:
            conn.close()
            return
        if kept >= self.per_role:
            conn.close()
            return
        self._adjust_count(conn, +1)
        with self._lock:
            self._idle[id(conn)] = (conninfo, conn, time.monotonic())
            self._by_info.setdefault(conninfo, {})[id(conn)] = None
            surplus = self._expire(time.monotonic())
        for old in surplus:
            old.close()


def _role_of(conn: psycopg.Connection) -> str:
    return conn.info.user  # one cache per server (`Server.warm`)
