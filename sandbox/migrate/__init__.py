"""Prisma-compatible migrations: diff two SQL schemas, render Prisma's SQL, keep the history.

The public API (what `__all__` lists; the modules below are this package's own business):

    history = MemoryHistory([Migration(name, sql)], on_add=save)        # or FolderHistory(path)
    result = migrate_dev(history, url, shadow_url, schema_text, name=...)  # -> CommandResult (data)
    # known=KnownSchemas(replayed, in_sync): the caller's cached replays and drift, instead of the shadow
    migrate_deploy / migrate_status / migrate_resolve / migrate_reset (history, url, ...) -> CommandResult

Schemas: `SqlSchema`, `introspect(conn)`, `replay(shadow_conn, migrations)` (ShadowReplayError),
`diff_schemas(a, b) -> steps`, `render_script(steps)`, `summarize(steps)` (Prisma's texts).
The `_prisma_migrations` table: `MigrationRecord`, `list_records` / `read_records`, `has_table`,
`create_table`, `apply_migration` / `run_script` (ApplyError: Prisma's P3018), `mark_applied`, and for a
rebuilt database `clear_records` / `restore_record` (a record written back as it was).
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.migrate.commands import (
        EMPTY_MIGRATION,
        CommandResult,
        KnownSchemas,
        migrate_deploy,
        migrate_dev,
        migrate_reset,
        migrate_resolve,
        migrate_status,
    )
    from sandbox.migrate.differ import diff_schemas
    from sandbox.migrate.history import (
        LOCK_FILE,
        LOCK_FILE_TEXT,
        MIGRATION_FILE,
        FolderHistory,
        HistoryStore,
        MemoryHistory,
        Migration,
        slugify,
    )
    from sandbox.migrate.introspection import introspect
    from sandbox.migrate.render import render_script
    from sandbox.migrate.script_diff import schema_error_text
    from sandbox.migrate.shadow import STATE_SCHEMA, ShadowReplayError, location, replay, reset_schemas
    from sandbox.migrate.sqlschema import SqlSchema
    from sandbox.migrate.statements import split_statements
    from sandbox.migrate.summary import NO_DIFFERENCE, summarize
    from sandbox.migrate.table import (
        P3018_TEXT,
        ApplyError,
        MigrationRecord,
        apply_migration,
        clear_records,
        create_table,
        has_table,
        list_records,
        mark_applied,
        read_records,
        restore_record,
        run_script,
    )

# Imported on first use: `migration-lab diff` needs no database driver.
_MODULES = {
    "sandbox.migrate.commands": [
        "EMPTY_MIGRATION", "CommandResult", "KnownSchemas", "migrate_deploy", "migrate_dev",
        "migrate_reset", "migrate_resolve", "migrate_status",
    ],
    "sandbox.migrate.differ": ["diff_schemas"],
    "sandbox.migrate.failure": ["MigrationFailure", "failure_of_logs"],
    "sandbox.migrate.history": [
        "LOCK_FILE", "LOCK_FILE_TEXT", "MIGRATION_FILE", "FolderHistory", "HistoryStore", "MemoryHistory",
        "Migration", "slugify",
    ],
    "sandbox.migrate.introspection": ["introspect"],
    "sandbox.migrate.render": ["render_script"],
    "sandbox.migrate.script_diff": ["schema_error_text"],
    "sandbox.migrate.shadow": ["STATE_SCHEMA", "ShadowReplayError", "location", "replay", "reset_schemas"],
    "sandbox.migrate.sqlschema": ["SqlSchema"],
    "sandbox.migrate.statements": ["split_statements"],
    "sandbox.migrate.summary": ["NO_DIFFERENCE", "summarize"],
    "sandbox.migrate.table": [
        "P3018_TEXT", "ApplyError", "MigrationRecord", "apply_migration", "clear_records", "create_table",
        "has_table", "list_records", "mark_applied", "read_records", "restore_record", "run_script",
    ],
}  # fmt: skip
_LAZY = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sandbox.migrate' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = [
    "EMPTY_MIGRATION",
    "LOCK_FILE",
    "LOCK_FILE_TEXT",
    "MIGRATION_FILE",
    "NO_DIFFERENCE",
    "P3018_TEXT",
    "STATE_SCHEMA",
    "ApplyError",
    "CommandResult",
    "FolderHistory",
    "HistoryStore",
    "KnownSchemas",
    "MemoryHistory",
    "Migration",
    "MigrationFailure",
    "MigrationRecord",
    "ShadowReplayError",
    "SqlSchema",
    "apply_migration",
    "clear_records",
    "create_table",
    "diff_schemas",
    "failure_of_logs",
    "has_table",
    "introspect",
    "list_records",
    "location",
    "mark_applied",
    "migrate_deploy",
    "migrate_dev",
    "migrate_reset",
    "migrate_resolve",
    "migrate_status",
    "read_records",
    "render_script",
    "replay",
    "reset_schemas",
    "restore_record",
    "run_script",
    "schema_error_text",
    "slugify",
    "split_statements",
    "summarize",
]
