"""Prisma-compatible migrations: diff two SQL schemas, render Prisma's SQL, keep the history.

The public API, for the web app and other callers (nothing else of the modules below is):

    history = MemoryHistory([Migration(name, sql)], on_add=save)    # or FolderHistory(path)
    result = migrate_dev(history, url, shadow_url, schema_text, name=...)   # -> CommandResult
    migrate_deploy / migrate_status / migrate_resolve / migrate_reset (history, url, ...) -> CommandResult
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.migrate.history import MemoryHistory, Migration

# Imported on first use: `migration-lab diff` or `risk` need no psycopg.
_LAZY = {
    "MemoryHistory": "sandbox.migrate.history",
    "Migration": "sandbox.migrate.history",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sandbox.migrate' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = [
    "MemoryHistory",
    "Migration",
]
