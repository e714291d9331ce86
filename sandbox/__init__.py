"""Throwaway PostgreSQL sandboxes: each learner gets a workspace of four databases.

The sandbox package never imports `app/`. The app holds one `SandboxManager`:

    manager = SandboxManager.from_settings(SandboxSettings(), data_dir)  # provider: MIGRATION_LAB_SANDBOX
    manager.prepare_pooled = prepare  # optional: run on each pooled workspace, returns a label
    manager.start()            # provider, warm-pool refiller, reaper (background=False: no threads)
    ws = manager.create_workspace()                  # warm from the pool (~1 ms) or cold (4 DBs concurrently)
    ws.prepared                                      # the pool's label ('' when built cold or unprepared)
    ws = manager.open_workspace(ws_id)               # Workspace, or None when it is gone (reaped, restart)
    ws, rebuilt = manager.ensure_workspace(ws_id)    # same id, role, password and URLs; rebuilt empty if gone
    manager.touch(ws_id); manager.drop_workspace(ws_id); manager.list_workspaces(); manager.remove_orphans()
    manager.stop()             # the embedded cluster stops and is wiped with it

A `Workspace` has `id`, `role`, `password` and, for env in ENVS (ENVIRONMENTS "dev", "staging",
"prod", and "shadow"):
`conninfo(env)` (psycopg conninfo as the workspace role: what the app runs learner SQL with), `url(env)`
(postgresql://role:password@127.0.0.1:port/db, shown to learners), `admin_conninfo(env)` (admin: ops
only), `dbname(env)`, `reset_env(env)` (drop + recreate, empty), `create_env_from_template(env, template_db)`,
`clone_env(src_env, backup_name) -> backup db`, `restore_env(env, backup_name)`, `drop_backup(name)`,
`backups()`, `size_bytes()`. Copying a database ends the sessions on its source (PostgreSQL requires it).
`reading(env)` lends a kept session as the role (sandbox.warm), `observing(env)` the same for a caller that
only reads; `touched` names the environments the handle reached otherwise, and a handle from
`ensure_workspace` carries each database's `activity` (`Activity`: oid, sessions opened, sessions on it now
besides the platform's kept ones), so a caller can tell that a database cannot have changed since it last
read it.

Template databases (seeded exercise states, built once, copied per learner in ~10 ms):
`manager.create_template(name, setup_sql) -> db name`, `template_exists`, `template_conninfo`,
`drop_template`; `manager.admin_conninfo(dbname=None)` is the shared server's admin access (ops only).

Learner SQL under limits: `run_script(conn, script, Bounds(...)) -> ScriptRun` (rows kept within the row,
byte and cell budgets; statuses; the first error and its position).
Running several app processes on one machine: `EmbeddedCluster` (the PostgreSQL server), `EmbeddedProvider`,
`PgRegistry` (the workspaces' registry in PostgreSQL), `load_or_create_secret(data_dir)`.

Errors: `SandboxError` (message for people; `SandboxFull` and `QuotaExceeded` are kinds of it),
`InvalidName` (a bad workspace id, env, backup or template name: ids are 4-32 lowercase letters and digits
since they end up in SQL names), `ClusterError` (embedded cluster cannot start: missing binaries, failed
initdb/start, with what to do).
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.bounded import Bounds, ScriptRun, run_script
    from sandbox.cluster import ClusterError, EmbeddedCluster
    from sandbox.config import SandboxSettings
    from sandbox.manager import SandboxManager, load_or_create_secret
    from sandbox.names import ENVIRONMENTS, ENVS, InvalidName
    from sandbox.providers.base import QuotaExceeded, SandboxError, SandboxFull
    from sandbox.providers.embedded import EmbeddedProvider
    from sandbox.registry import PgRegistry, WorkspaceInfo
    from sandbox.workspace import Activity, Workspace

# Imported on first use, so `migration-lab diff` or `risk` (which need none of them) start fast.
_LAZY = {
    "Bounds": "sandbox.bounded",
    "ScriptRun": "sandbox.bounded",
    "run_script": "sandbox.bounded",
    "ClusterError": "sandbox.cluster",
    "EmbeddedCluster": "sandbox.cluster",
    "SandboxSettings": "sandbox.config",
    "SandboxManager": "sandbox.manager",
    "load_or_create_secret": "sandbox.manager",
    "ENVIRONMENTS": "sandbox.names",
    "ENVS": "sandbox.names",
    "InvalidName": "sandbox.names",
    "QuotaExceeded": "sandbox.providers.base",
    "SandboxError": "sandbox.providers.base",
    "SandboxFull": "sandbox.providers.base",
    "EmbeddedProvider": "sandbox.providers.embedded",
    "PgRegistry": "sandbox.registry",
    "WorkspaceInfo": "sandbox.registry",
    "Activity": "sandbox.workspace",
    "Workspace": "sandbox.workspace",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = [
    "Activity",
    "ENVIRONMENTS",
    "ENVS",
    "Bounds",
    "ClusterError",
    "EmbeddedCluster",
    "EmbeddedProvider",
    "InvalidName",
    "PgRegistry",
    "QuotaExceeded",
    "SandboxError",
    "SandboxFull",
    "SandboxManager",
    "SandboxSettings",
    "ScriptRun",
    "Workspace",
    "WorkspaceInfo",
    "load_or_create_secret",
    "run_script",
]
