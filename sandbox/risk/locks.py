"""PostgreSQL's table-level lock modes, their conflict table and the common operations each one blocks.

From the "Table-Level Locks" section of PostgreSQL's documentation (explicit-locking.html), spelled the
way `pg_locks.mode` spells them.
"""

from __future__ import annotations

# Weakest first: the order used to pick a statement's strongest lock and by the `max_lock` check.
MODES = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
RANK = {mode: rank for rank, mode in enumerate(MODES)}

_A, _RS, _RX, _SUX, _S, _SRX, _X, _AX = MODES
CONFLICTS: dict[str, frozenset[str]] = {
    _A: frozenset({_AX}),
    _RS: frozenset({_X, _AX}),
    _RX: frozenset({_S, _SRX, _X, _AX}),
    _SUX: frozenset({_SUX, _S, _SRX, _X, _AX}),
    _S: frozenset({_RX, _SUX, _SRX, _X, _AX}),
    _SRX: frozenset({_RX, _SUX, _S, _SRX, _X, _AX}),
    _X: frozenset({_RS, _RX, _SUX, _S, _SRX, _X, _AX}),
    _AX: frozenset(MODES),
}

# Common operations on a table and the lock each one needs (documentation's "acquired by" lists).
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("SELECT", _A),
    ("INSERT", _RX),
    ("UPDATE", _RX),
    ("DELETE", _RX),
    ("CREATE INDEX", _S),
    ("VACUUM", _SUX),
    ("DDL", _AX),
)


def strongest(modes: list[str]) -> str | None:
    return max(modes, key=RANK.__getitem__, default=None)


def blocked_operations(mode: str | None) -> list[str]:
    """The common operations another session cannot run on a table while `mode` is held on it."""
    if mode is None:
        return []
    return [name for name, needed in OPERATIONS if needed in CONFLICTS[mode]]


def plain_words(mode: str | None) -> str:
    """What a lock means for the application, in a few words."""
    blocked = set(blocked_operations(mode))
    if {"SELECT", "INSERT"} <= blocked:
        return "blocks reads and writes"
    if "INSERT" in blocked:
        return "blocks writes (reads continue)"
    if blocked:
        return "blocks only schema changes and maintenance (reads and writes continue)"
    return "blocks nothing the application does"
