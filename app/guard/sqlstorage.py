"""A `limits` storage in the app's state database, so that every worker process and every replica counts
the same rate limits without another service (no Redis): SQLite (WAL) on one machine, PostgreSQL across
machines. No maintained SQL storage for `limits` exists (an SQLAlchemy one is an open pull request there).

Each check is one short transaction. Counting then adding must not interleave between processes: on
SQLite the conditional INSERT is one statement, which SQLite runs under its single writer lock; on
PostgreSQL a transaction-level advisory lock on the bucket serializes its writers. Rows past their expiry
are deleted as buckets are hit, and every `SWEEP_EVERY` hits for buckets nobody hits again.
"""

from __future__ import annotations

import threading
import time

from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from app.db.engine import create_state_engine

SWEEP_EVERY = 200
ADVISORY_NAMESPACE = 0x4D52  # "MR": apart from the panel's workspace locks ("ML")

# Typed parameters: PostgreSQL deduces one type per parameter and each is used twice.
_ADD_IF_ROOM = text(
    "INSERT INTO rate_limit_hits (bucket, at, amount, expires_at) "
    "SELECT CAST(:bucket AS VARCHAR(400)), CAST(:now AS FLOAT), CAST(:amount AS INTEGER), "
    "CAST(:expires_at AS FLOAT) "
    "WHERE (SELECT COALESCE(SUM(amount), 0) FROM rate_limit_hits "
    "WHERE bucket = CAST(:bucket AS VARCHAR(400)) AND at > :start) + CAST(:amount AS INTEGER) <= :limit"
)
_WINDOW = text(
    "SELECT MIN(at), COALESCE(SUM(amount), 0) FROM rate_limit_hits WHERE bucket = :bucket AND at > :start"
)
_INCREMENT = text(
    "INSERT INTO rate_limit_counters (bucket, count, expires_at) VALUES (:bucket, :amount, :expires_at) "
    "ON CONFLICT (bucket) DO UPDATE SET "
    "count = CASE WHEN rate_limit_counters.expires_at <= :now THEN :amount "
    "ELSE rate_limit_counters.count + :amount END, "
    "expires_at = CASE WHEN rate_limit_counters.expires_at <= :now THEN :expires_at "
    "ELSE rate_limit_counters.expires_at END "
    "RETURNING count"
)


class StateStorage(Storage, MovingWindowSupport):
    """Moving windows (the strategy the app uses) and fixed windows, in `rate_limit_hits` and
    `rate_limit_counters` (Alembic revision 0004)."""

    def __init__(self, database_url: str, connections: int = 4) -> None:
        super().__init__()
        self.engine = create_state_engine(database_url, connections)
        self._postgres = self.engine.dialect.name == "postgresql"
        self._hits = 0
        self._hits_lock = threading.Lock()

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self.engine.begin() as conn:
            self._serialize(conn, key)
            conn.execute(
                text("DELETE FROM rate_limit_hits WHERE bucket = :bucket AND at <= :start"),
                {"bucket": key, "start": now - expiry},
            )
            added = conn.execute(
                _ADD_IF_ROOM,
                {"bucket": key, "now": now, "amount": amount, "expires_at": now + expiry,
                 "start": now - expiry, "limit": limit},
            )  # fmt: skip
            acquired = added.rowcount == 1
        self._sweep_now_and_then(now)
        return acquired

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        with self.engine.connect() as conn:
            oldest, count = conn.execute(_WINDOW, {"bucket": key, "start": now - expiry}).one()
        return (float(oldest) if oldest is not None else now), int(count)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self.engine.begin() as conn:
            row = conn.execute(
                _INCREMENT, {"bucket": key, "amount": amount, "now": now, "expires_at": now + expiry}
            ).one()
        return int(row[0])

    def get(self, key: str) -> int:
        with self.engine.connect() as conn:
            count = conn.execute(
                text("SELECT count FROM rate_limit_counters WHERE bucket = :bucket AND expires_at > :now"),
                {"bucket": key, "now": time.time()},
            ).scalar()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as conn:
            expires_at = conn.execute(
                text("SELECT expires_at FROM rate_limit_counters WHERE bucket = :bucket"), {"bucket": key}
            ).scalar()
        return float(expires_at) if expires_at is not None else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            removed = conn.execute(text("DELETE FROM rate_limit_hits")).rowcount
            removed += conn.execute(text("DELETE FROM rate_limit_counters")).rowcount
        return removed

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM rate_limit_hits WHERE bucket = :bucket"), {"bucket": key})
            conn.execute(text("DELETE FROM rate_limit_counters WHERE bucket = :bucket"), {"bucket": key})

    def close(self) -> None:
        self.engine.dispose()

    def _serialize(self, conn: Connection, key: str) -> None:
        """PostgreSQL: the bucket's writers one at a time until commit (SQLite has one writer anyway)."""
        if self._postgres:
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:ns, hashtext(:bucket))"),
                {"ns": ADVISORY_NAMESPACE, "bucket": key},
            )

    def _sweep_now_and_then(self, now: float) -> None:
        with self._hits_lock:
            self._hits += 1
            due = self._hits % SWEEP_EVERY == 0
        if due:  # buckets never hit again (a visitor gone) would otherwise stay
            with self.engine.begin() as conn:
                conn.execute(text("DELETE FROM rate_limit_hits WHERE expires_at <= :now"), {"now": now})
                conn.execute(text("DELETE FROM rate_limit_counters WHERE expires_at <= :now"), {"now": now})
