"""Where an exercise workspace's databases start: the exercise's seeded start templates, on the sandbox
server holding the workspace (PostgreSQL copies a database only from a template on the same server, and
with several sandbox servers workspaces are spread over them). The panel takes `templates_for` as its
start source, to rebuild a reaped exercise workspace."""

from __future__ import annotations

import logging
import threading

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from app.db.workspaces import SavedWorkspace
from app.exercises.content import ExerciseCatalog, context_of
from app.exercises.databases import ContentError, GradingDatabases
from app.panel.rebuild import StartTemplate
from sandbox import SandboxManager, Workspace

log = logging.getLogger(__name__)


def admin_conninfo_of(sandboxes: SandboxManager) -> str:
    """The sandbox server's admin connection (grading databases live beside the workspaces)."""
    params = conninfo_to_dict(sandboxes.template_conninfo("grading"))
    params["dbname"] = "postgres"
    return make_conninfo("", **params)


class ExerciseStarts:
    def __init__(self, catalog: ExerciseCatalog, dbs: GradingDatabases) -> None:
        self.catalog = catalog
        self.dbs = dbs  # the home sandbox server: grading runs, and the start templates of its workspaces
        self._others: dict[tuple[str, str], GradingDatabases] = {}
        self._lock = threading.Lock()

    def on_server_of(self, sandbox: Workspace) -> GradingDatabases:
        """The templates and clones on the server holding `sandbox`."""
        conninfo = sandbox.server.admin_conninfo()
        key = _server_key(conninfo)
        if key == _server_key(self.dbs.admin_conninfo):
            return self.dbs
        with self._lock:
            if key not in self._others:
                self._others[key] = GradingDatabases(conninfo)
            return self._others[key]

    def close(self) -> None:
        """Drop spare grading runs and close the admin pools, before the sandbox servers stop."""
        with self._lock:
            every, self._others = [self.dbs, *self._others.values()], {}
        for dbs in every:
            dbs.close()

    def templates_for(self, workspace: SavedWorkspace, sandbox: Workspace) -> dict[str, StartTemplate] | None:
        """Where a rebuilt exercise workspace's environments start: the exercise's seeded start
        templates (None for other contexts; none when the exercise is gone or its start does not run)."""
        if not workspace.context.startswith("exercise-"):
            return None
        exercises = self.catalog.load().exercises
        exercise = next((e for e in exercises if context_of(e) == workspace.context), None)
        if exercise is None:
            return {}
        try:
            dbs = self.on_server_of(sandbox)
            names = dbs.ensure_templates(exercise, with_grading_data=False, verify=True)
        except ContentError as error:
            log.warning("exercise %s: no start template to rebuild from: %s", exercise.id, error)
            return {}
        checksums = {m.name: m.checksum for m in exercise.start.migrations}
        return {
            env: StartTemplate(name, tuple((m, checksums[m]) for m in exercise.start.applied.get(env, [])))
            for env, name in names.items()
        }


def _server_key(conninfo: str) -> tuple[str, str]:
    params = conninfo_to_dict(conninfo)
    return str(params.get("host") or ""), str(params.get("port") or "5432")
