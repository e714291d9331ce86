"""The slots of the fair share: `limit` slots per key (a learner, a client address); a sandbox request holds
one while it runs.

- `Slots`: one process; a set of taken slot numbers per key, changed on the event loop only.
- `FileSlots`: worker processes of one machine sharing a SQLite state file: slot (key, n) is also a POSIX
  record lock on one byte of a lock file beside it (`fcntl.lockf`, non-blocking). The kernel drops a dead
  process's locks, however it died.
- `AdvisorySlots`: processes and replicas sharing a PostgreSQL state database: slot (key, n) is also a
  session advisory lock (`pg_try_advisory_lock`) held on one connection per process. A process that dies
  closes its connection and so frees its slots (TCP keepalives for a machine that vanishes). Reach the
  state database directly or through a session-mode pooler: these locks live as long as a session.

Each process tries the slots from its own starting point (its pid), so that the first slot free in this
process is usually free in the others too: one try, one round trip. Both kinds of lock belong to the
process (a record lock) or to the connection (an advisory lock), not to a request: the local set says
which request of this process holds which slot, and a slot is marked taken before its lock is asked for,
so two requests of one process never share it.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

log = logging.getLogger(__name__)

ADVISORY_NAMESPACE = 0x4D46  # "MF": apart from the panel's workspace locks ("ML") and rate limits ("MR")
APPLICATION_NAME = "migration-lab fair share"  # how its connection shows in pg_stat_activity
MAX_SLOTS = 65536  # per key (more is as good as no limit): the slot number is the low 16 bits of an offset
# TCP keepalives both ways: this process notices a server gone, and the server notices within ~25 s a
# worker's machine that vanished without closing its connection (its slots freed then, not hours later).
KEEPALIVES: dict[str, str | int] = {
    "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
    "options": "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3",
}  # fmt: skip


def _hash(key: str, size: int) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=size).digest(), "big")


class Slots:
    """Within one process."""

    shared = False

    def __init__(self, start: int = 0) -> None:
        self._taken: dict[str, set[int]] = {}
        self._start = start

    def _order(self, limit: int) -> list[int]:
        """The slot numbers in the order this process tries them."""
        limit = min(limit, MAX_SLOTS)
        return [(self._start + n) % limit for n in range(limit)]

    async def take(self, key: str, limit: int) -> int | None:
        """A free slot of `key` among `limit` (now taken), or None when all are."""
        taken = self._taken.setdefault(key, set())
        for slot in self._order(limit):
            if slot in taken:
                continue
            taken.add(slot)  # before awaiting the lock: another request of this process skips it
            if await self._lock(key, slot):
                return slot
            taken.discard(slot)
        self._forget_if_empty(key)
        return None

    async def give_back(self, key: str, slot: int) -> None:
        try:
            await self._unlock(key, slot)
        finally:
            self._taken.get(key, set()).discard(slot)
            self._forget_if_empty(key)

    async def take_each(self, wanted: list[tuple[str, int]]) -> list[tuple[str, int]] | None:
        """A slot of every key of (key, limit) in `wanted`, or none of them: [(key, slot)] or None."""
        held: list[tuple[str, int]] = []
        for key, limit in wanted:
            slot = await self.take(key, limit)
            if slot is None:
                await self.give_back_each(held)
                return None
            held.append((key, slot))
        return held

    async def give_back_each(self, held: list[tuple[str, int]]) -> None:
        for key, slot in held:
            await self.give_back(key, slot)

    async def close(self) -> None:
        self._taken.clear()

    def _forget_if_empty(self, key: str) -> None:
        if not self._taken.get(key, True):
            del self._taken[key]

    async def _lock(self, key: str, slot: int) -> bool:
        return True

    async def _unlock(self, key: str, slot: int) -> None:
        return None


class FileSlots(Slots):
    """Across the processes of one machine: a byte-range lock per slot in `path`."""

    shared = True

    def __init__(self, path: Path, start: int | None = None) -> None:
        super().__init__(os.getpid() if start is None else start)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # One descriptor for the process's life: closing any descriptor of the file drops every record
        # lock the process holds on it.
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    @staticmethod
    def _offset(key: str, slot: int) -> int:
        return _hash(key, 5) << 16 | slot  # 56 bits: inside off_t

    async def _lock(self, key: str, slot: int) -> bool:
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, self._offset(key, slot))
        except OSError:  # EAGAIN or EACCES: another process holds it
            return False
        return True

    async def _unlock(self, key: str, slot: int) -> None:
        fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, self._offset(key, slot))

    async def close(self) -> None:
        await super().close()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class AdvisorySlots(Slots):
    """Across processes and machines sharing a PostgreSQL state database: an advisory lock per slot."""

    shared = True

    def __init__(self, conninfo: str, start: int | None = None) -> None:
        super().__init__(os.getpid() if start is None else start)
        self._conninfo = conninfo
        self._conn: psycopg.AsyncConnection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Lock | None = None

    @staticmethod
    def _key(key: str, slot: int) -> int:
        return _hash(f"{key}\0{slot}", 4) - 2**31  # a signed int4

    async def take_each(self, wanted: list[tuple[str, int]]) -> list[tuple[str, int]] | None:
        """One round trip when the first slot free in this process is free everywhere (the usual case);
        else one slot at a time."""
        first: list[tuple[str, int]] = []
        for key, limit in wanted:
            taken = self._taken.setdefault(key, set())
            slot = next((n for n in self._order(limit) if n not in taken), None)
            if slot is None:
                self._release_locally(first)
                self._forget_if_empty(key)
                return None
            taken.add(slot)
            first.append((key, slot))
        granted = await self._try_all(first)
        if all(granted):
            return first
        await self._unlock_all([held for held, ok in zip(first, granted, strict=True) if ok])
        self._release_locally(first)
        return await super().take_each(wanted)

    async def give_back_each(self, held: list[tuple[str, int]]) -> None:
        try:
            await self._unlock_all(held)
        finally:
            self._release_locally(held)

    def _release_locally(self, held: list[tuple[str, int]]) -> None:
        for key, slot in held:
            self._taken.get(key, set()).discard(slot)
            self._forget_if_empty(key)

    async def _try_all(self, slots: list[tuple[str, int]]) -> list[bool]:
        calls = ", ".join(["pg_try_advisory_lock(%s, %s)"] * len(slots))
        params = [n for key, slot in slots for n in (ADVISORY_NAMESPACE, self._key(key, slot))]
        try:
            conn = await self._connection()
            row = await (await conn.execute(f"SELECT {calls}", params)).fetchone()
        except psycopg.Error:
            log.warning("fair share: state database unreachable; counting in this process", exc_info=True)
            await self._drop()
            return [True] * len(slots)
        return [bool(granted) for granted in row or [False] * len(slots)]

    async def _unlock_all(self, slots: list[tuple[str, int]]) -> None:
        if not slots or self._conn is None or self._loop is not asyncio.get_running_loop():
            return  # nothing held, or the connection that held them is gone and the locks with it
        calls = ", ".join(["pg_advisory_unlock(%s, %s)"] * len(slots))
        params = [n for key, slot in slots for n in (ADVISORY_NAMESPACE, self._key(key, slot))]
        try:
            await self._conn.execute(f"SELECT {calls}", params)
        except psycopg.Error:
            log.warning("fair share: unlock failed; dropping the connection frees its locks", exc_info=True)
            await self._drop()

    async def _lock(self, key: str, slot: int) -> bool:
        try:
            conn = await self._connection()
            cursor = await conn.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (ADVISORY_NAMESPACE, self._key(key, slot))
            )
            row = await cursor.fetchone()
        except psycopg.Error:
            # The state database is unreachable (the app cannot serve this action anyway): count in this
            # process only rather than refuse everyone; the next action reconnects.
            log.warning("fair share: state database unreachable; counting in this process", exc_info=True)
            await self._drop()
            return True
        return bool(row and row[0])

    async def _unlock(self, key: str, slot: int) -> None:
        if self._conn is None or self._loop is not asyncio.get_running_loop():
            return  # the connection that held it is gone, and the lock with it
        try:
            await self._conn.execute(
                "SELECT pg_advisory_unlock(%s, %s)", (ADVISORY_NAMESPACE, self._key(key, slot))
            )
        except psycopg.Error:
            log.warning("fair share: unlock failed; dropping the connection frees its locks", exc_info=True)
            await self._drop()

    async def _connection(self) -> psycopg.AsyncConnection:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests start several): the old connection is unusable
            self._abandon()
            self._loop, self._connecting = loop, asyncio.Lock()
        assert self._connecting is not None
        async with self._connecting:
            if self._conn is None or self._conn.closed:
                conninfo = make_conninfo(self._conninfo, application_name=APPLICATION_NAME, **KEEPALIVES)
                self._conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
            return self._conn

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    def _abandon(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.pgconn.finish()  # closes the socket without the event loop it belonged to

    async def close(self) -> None:
        await super().close()
        if self._loop is asyncio.get_running_loop():
            await self._drop()
        else:
            self._abandon()
