"""Throwaway PostgreSQL sandboxes: each learner gets a workspace of four databases.

The sandbox package never imports `app/`. The app holds one `SandboxManager`:

    manager = SandboxManager.from_settings(SandboxSettings(), data_dir)  # provider: MIGRATION_LAB_SANDBOX
    manager.start()            # provider, warm-pool refiller, reaper (background=False: no threads)
    ws = manager.create_workspace()                  # warm from the pool (~1 ms) or cold (4 DBs concurrently)
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

Template databases (seeded exercise states, built once, copied per learner in ~10 ms):
`manager.create_template(name, setup_sql) -> db name`, `template_exists`, `template_conninfo`,
`drop_template`; `manager.admin_conninfo(dbname=None)` is the shared server's admin access (ops only).

Errors: `SandboxError` (message for people), `InvalidName` (a bad workspace id, env, backup or template name:
ids are 4-32 lowercase letters and digits since they end up in SQL names), `ClusterError` (embedded cluster
cannot start: missing binaries, failed initdb/start, with what to do).
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.cluster import ClusterError
    from sandbox.config import SandboxSettings
    from sandbox.manager import SandboxManager
    from sandbox.names import ENVIRONMENTS, ENVS, InvalidName
    from sandbox.providers.base import SandboxError
    from sandbox.registry import WorkspaceInfo
    from sandbox.workspace import Workspace

# Imported on first use, so `migration-lab diff` or `risk` (which need none of them) start fast.
_LAZY = {
    "ClusterError": "sandbox.cluster",
    "SandboxSettings": "sandbox.config",
    "SandboxManager": "sandbox.manager",
    "ENVIRONMENTS": "sandbox.names",
    "ENVS": "sandbox.names",
    "InvalidName": "sandbox.names",
    "SandboxError": "sandbox.providers.base",
    "WorkspaceInfo": "sandbox.registry",
    "Workspace": "sandbox.workspace",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = [
    "ENVIRONMENTS",
    "ENVS",
    "ClusterError",
    "InvalidName",
    "SandboxError",
    "SandboxManager",
    "SandboxSettings",
    "Workspace",
    "WorkspaceInfo",
]
