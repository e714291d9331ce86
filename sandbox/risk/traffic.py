"""Live traffic during a deploy: a few sessions run the application's queries while a migration runs.

Each session loops over the queries (each in a rolled-back transaction, a short pause between two) from a
little before the deploy starts until a little after it ends; every query's start, duration and error is
kept. A migration that takes ACCESS EXCLUSIVE behind a long transaction, or rewrites a big table, shows as
queries that waited; one with `SET lock_timeout` shows as a deploy that failed fast and retried.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pglast
import psycopg
from pglast import ast

from sandbox.risk.appcheck import AppQuery, run_query
from sandbox.risk.tracer import pg_error

MAX_SESSIONS = 4  # traffic sessions at most: enough to queue behind a lock, light on a shared server
PAUSE_S = 0.005  # between two queries of one session
WAITED_MS = 50.0  # a query slower than this waited (an app query on the sandbox's data runs in a few ms)
LOCK_TIMEOUT = "55P03"


@dataclass(frozen=True)
class TrafficEvent:
    session: int
    query: str  # the query's name
    start_ms: float  # since the traffic started
    duration_ms: float
    error: str = ""

    @property
    def waited(self) -> bool:
        return self.duration_ms >= WAITED_MS


@dataclass
class DeployAttempt:
    start_ms: float
    duration_ms: float
    error: str = ""


@dataclass
class Timeline:
    events: list[TrafficEvent] = field(default_factory=list)
    attempts: list[DeployAttempt] = field(default_factory=list)
    total_ms: float = 0.0
    long_transaction_ms: int = 0

    @property
    def deploy_error(self) -> str:
        return self.attempts[-1].error if self.attempts else ""

    @property
    def longest(self) -> TrafficEvent | None:
        return max(self.events, key=lambda e: e.duration_ms, default=None)

    @property
    def longest_stall_ms(self) -> float:
        return self.longest.duration_ms if self.longest else 0.0

    @property
    def waited(self) -> list[TrafficEvent]:
        return [e for e in self.events if e.waited]

    @property
    def failed(self) -> list[TrafficEvent]:
        return [e for e in self.events if e.error]


def _loop(
    conn: psycopg.Connection, session: int, queries: list[AppQuery], clock: Callable[[], float],
    stop: threading.Event, events: list[TrafficEvent],
) -> None:
    turn = session
    while not stop.is_set():
        query = queries[turn % len(queries)]
        turn += 1
        started = clock()
        error = run_query(conn, query)
        took = round(clock() - started, 1)
        events.append(TrafficEvent(session, query.name, round(started, 1), took, error))
        if conn.closed:
            return
        stop.wait(PAUSE_S)


def _reads(queries: list[AppQuery]) -> list[AppQuery]:
    """The plain SELECTs among the app's queries (read with PostgreSQL's parser)."""
    found = []
    for query in queries:
        try:
            [raw] = pglast.parse_sql(query.sql)
        except (pglast.parser.ParseError, ValueError):
            continue
        if isinstance(raw.stmt, ast.SelectStmt) and not raw.stmt.lockingClause:
            found.append(query)
    return found


def _hold(conn: psycopg.Connection, queries: list[AppQuery], hold_ms: int) -> None:
    """A long read-only transaction (a report): runs the app's SELECTs, then stays open, holding their
    ACCESS SHARE locks (and no row lock: it must not block the traffic by itself)."""
    try:
        with conn.transaction(force_rollback=True):
            for query in _reads(queries):
                with psycopg.RawCursor(conn) as cursor:
                    cursor.execute(query.sql.encode(), query.bound())
            conn.execute("SELECT pg_sleep(%s)", (hold_ms / 1000,))
    except psycopg.Error:
        pass  # a failing query leaves no lock to hold: the timeline shows the traffic as it was


def run_with_traffic(
    sessions: list[psycopg.Connection],
    queries: list[AppQuery],
    deploy: Callable[[], str],
    *,
    long_transaction: psycopg.Connection | None = None,
    long_transaction_ms: int = 0,
    warmup_ms: int = 150,
    cooldown_ms: int = 150,
    retries: int = 3,
) -> Timeline:
    """Run `deploy` (returns PostgreSQL's error or "") while `sessions` (at most MAX_SESSIONS, autocommit)
    send `queries`. A deploy that fails on its own lock_timeout is retried `retries` times, as a careful
    deploy script does. With `long_transaction`, a transaction reading the app's tables is open when the
    deploy starts and lasts `long_transaction_ms`."""
    timeline = Timeline(long_transaction_ms=long_transaction_ms if long_transaction else 0)
    if not queries:
        sessions = []
    origin = time.perf_counter()

    def clock() -> float:
        return (time.perf_counter() - origin) * 1000

    stop = threading.Event()
    threads = [
        threading.Thread(target=_loop, args=(conn, n + 1, queries, clock, stop, timeline.events), daemon=True)
        for n, conn in enumerate(sessions[:MAX_SESSIONS])
    ]
    holder = None
    if long_transaction is not None and long_transaction_ms > 0 and queries:
        args = (long_transaction, queries, long_transaction_ms)
        holder = threading.Thread(target=_hold, args=args, daemon=True)
    for thread in threads:
        thread.start()
    try:
        time.sleep(warmup_ms / 2000)
        if holder is not None:
            holder.start()
        time.sleep(warmup_ms / 2000)
        for attempt in range(retries + 1):
            started = clock()
            try:
                error = deploy()
            except psycopg.Error as failure:
                error = pg_error(failure)
            timeline.attempts.append(DeployAttempt(round(started, 1), round(clock() - started, 1), error))
            if f"SQLSTATE {LOCK_TIMEOUT}" not in error or attempt == retries:
                break
            time.sleep(0.05 * 2**attempt)
        time.sleep(cooldown_ms / 1000)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        if holder is not None:
            holder.join()
    timeline.events.sort(key=lambda e: e.start_ms)
    timeline.total_ms = round(clock(), 1)
    return timeline
