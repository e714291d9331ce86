"""Which workspaces exist, which are warm in the pool, and when each was last used.

On a shared server the registry is a table in the admin database, so that handing out a warm workspace is
one transaction that two processes (or machines) cannot both win. The docker provider keeps it in memory.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.providers.base import Server

SCHEMA_SQL = """
CREATE SCHEMA IF NOT EXISTS migration_lab_sandbox;
REVOKE ALL ON SCHEMA migration_lab_sandbox FROM PUBLIC;
CREATE TABLE IF NOT EXISTS migration_lab_sandbox.workspaces (
    prefix text NOT NULL,
    id text NOT NULL,
    state text NOT NULL CHECK (state IN ('building', 'pool', 'active')),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (prefix, id)
);
-- The server a workspace lives on, when there are several ('' = the home server).
ALTER TABLE migration_lab_sandbox.workspaces ADD COLUMN IF NOT EXISTS server text NOT NULL DEFAULT '';
-- What a pooled workspace was prepared with (SandboxManager.prepare_pooled's label), for its claimer.
ALTER TABLE migration_lab_sandbox.workspaces ADD COLUMN IF NOT EXISTS start text NOT NULL DEFAULT '';
"""


@dataclass(frozen=True)
class WorkspaceInfo:
    id: str
    state: str  # "building" (databases being created), "pool" (warm, not handed out) or "active"
    created_at: datetime
    last_used_at: datetime
    server: str = ""  # which sandbox server holds it, when there are several ("" = the only or home one)


class PgRegistry:
    def __init__(self, server: Server, prefix: str) -> None:
        self.server = server
        self.prefix = prefix

    def ensure(self) -> None:
        with self.server.admin_connection() as conn, conn.transaction():
            # Two processes starting together would race on CREATE ... IF NOT EXISTS.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('migration_lab_sandbox'))")
            conn.execute(SCHEMA_SQL)

    def add(self, workspace_id: str, state: str, server: str = "") -> None:
        """Register (or re-register) a workspace; "building" until its databases exist, so that it is
        neither handed out nor taken for an orphan meanwhile."""
        with self.server.admin_connection() as conn:
            conn.execute(
                "INSERT INTO migration_lab_sandbox.workspaces (prefix, id, state, server)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (prefix, id)"
                " DO UPDATE SET state = EXCLUDED.state, server = EXCLUDED.server, last_used_at = now()",
                (self.prefix, workspace_id, state, server),
            )

    def loads(self) -> dict[str, int]:
        """How many workspaces each server holds."""
        with self.server.admin_connection() as conn:
            rows = conn.execute(
                "SELECT server, count(*) FROM migration_lab_sandbox.workspaces"
                " WHERE prefix = %s GROUP BY server",
                (self.prefix,),
            ).fetchall()
        return {server: count for server, count in rows}

    def claim(self) -> tuple[WorkspaceInfo, str] | None:
        """Hand out the oldest warm workspace with what it was prepared with ('' if nothing), or None
        when the pool is empty."""
        with self.server.admin_connection() as conn:
            row = conn.execute(
                "UPDATE migration_lab_sandbox.workspaces SET state = 'active', last_used_at = now()"
                " WHERE prefix = %s AND id = (SELECT id FROM migration_lab_sandbox.workspaces"
                "   WHERE prefix = %s AND state = 'pool' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
                " RETURNING id, state, created_at, last_used_at, server, start",
                (self.prefix, self.prefix),
            ).fetchone()
        return (WorkspaceInfo(*row[:5]), row[5]) if row else None

    def get(self, workspace_id: str) -> WorkspaceInfo | None:
        found = self._select("AND id = %s", (workspace_id,))
        return found[0] if found else None

    def touch(self, workspace_id: str) -> WorkspaceInfo | None:
        """Mark the workspace used now; its row (None when it is not registered), in one round trip."""
        with self.server.admin_connection() as conn:
            row = conn.execute(
                "UPDATE migration_lab_sandbox.workspaces SET last_used_at = now()"
                " WHERE prefix = %s AND id = %s RETURNING id, state, created_at, last_used_at, server",
                (self.prefix, workspace_id),
            ).fetchone()
        return WorkspaceInfo(*row) if row else None

    def remove(self, workspace_id: str) -> None:
        with self.server.admin_connection() as conn:
            conn.execute(
                "DELETE FROM migration_lab_sandbox.workspaces WHERE prefix = %s AND id = %s",
                (self.prefix, workspace_id),
            )

    def all(self) -> list[WorkspaceInfo]:
        return self._select("", ())

    def idle(self, seconds: float) -> list[str]:
        found = self._select(
            "AND state = 'active' AND last_used_at < now() - make_interval(secs => %s)", (seconds,)
        )
        return [info.id for info in found]

    def set_state(self, workspace_id: str, state: str, start: str = "") -> None:
        with self.server.admin_connection() as conn:
            conn.execute(
                "UPDATE migration_lab_sandbox.workspaces SET state = %s, start = %s, last_used_at = now()"
                " WHERE prefix = %s AND id = %s",
                (state, start, self.prefix, workspace_id),
            )

    def stale_builds(self, seconds: float) -> list[str]:
        found = self._select(
            "AND state = 'building' AND created_at < now() - make_interval(secs => %s)", (seconds,)
        )
        return [info.id for info in found]

    def count_pooled(self) -> int:
        return len(self._select("AND state = 'pool'", ()))

    def _select(self, where: str, params: tuple[object, ...]) -> list[WorkspaceInfo]:
        with self.server.admin_connection() as conn:
            rows = conn.execute(
                "SELECT id, state, created_at, last_used_at, server FROM migration_lab_sandbox.workspaces"
                f" WHERE prefix = %s {where} ORDER BY created_at",
                (self.prefix, *params),
            ).fetchall()
        return [WorkspaceInfo(*row) for row in rows]


class MemoryRegistry:
    """The same operations for workspaces that live and die with this process."""

    def __init__(self) -> None:
        self._rows: dict[str, WorkspaceInfo] = {}
        self._starts: dict[str, str] = {}
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Nothing to create."""

    def add(self, workspace_id: str, state: str, server: str = "") -> None:
        now = _now()
        with self._lock:
            self._rows[workspace_id] = WorkspaceInfo(workspace_id, state, now, now, server)

    def loads(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for info in self.all():
            counts[info.server] = counts.get(info.server, 0) + 1
        return counts

    def claim(self) -> tuple[WorkspaceInfo, str] | None:
        with self._lock:
            pooled = [info for info in self._rows.values() if info.state == "pool"]
            if not pooled:
                return None
            info = min(pooled, key=lambda i: i.created_at)
            claimed = WorkspaceInfo(info.id, "active", info.created_at, _now(), info.server)
            self._rows[info.id] = claimed
            return claimed, self._starts.pop(info.id, "")

    def get(self, workspace_id: str) -> WorkspaceInfo | None:
        with self._lock:
            return self._rows.get(workspace_id)

    def touch(self, workspace_id: str) -> WorkspaceInfo | None:
        with self._lock:
            info = self._rows.get(workspace_id)
            if info is not None:
                info = WorkspaceInfo(info.id, info.state, info.created_at, _now(), info.server)
                self._rows[workspace_id] = info
            return info

    def remove(self, workspace_id: str) -> None:
        with self._lock:
            self._rows.pop(workspace_id, None)
            self._starts.pop(workspace_id, None)

    def all(self) -> list[WorkspaceInfo]:
        with self._lock:
            return sorted(self._rows.values(), key=lambda i: i.created_at)

    def idle(self, seconds: float) -> list[str]:
        cutoff = time.time() - seconds
        return [i.id for i in self.all() if i.state == "active" and i.last_used_at.timestamp() < cutoff]

    def set_state(self, workspace_id: str, state: str, start: str = "") -> None:
        with self._lock:
            info = self._rows.get(workspace_id)
            if info is not None:
                self._rows[workspace_id] = WorkspaceInfo(info.id, state, info.created_at, _now(), info.server)
                self._starts[workspace_id] = start

    def stale_builds(self, seconds: float) -> list[str]:
        cutoff = time.time() - seconds
        return [i.id for i in self.all() if i.state == "building" and i.created_at.timestamp() < cutoff]

    def count_pooled(self) -> int:
        return sum(1 for info in self.all() if info.state == "pool")


Registry = PgRegistry | MemoryRegistry


def _now() -> datetime:
    return datetime.now(UTC)
