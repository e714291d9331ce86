"""The app's parts in one typed container each, built in dependency order.

`Site` is what `create_app` builds without any I/O (settings, templates, the course, identity, the
exercise files); `Services` is what the lifespan starts from it (the state database, the sandboxes,
then the panel, exercises and progress that use them) and stops in reverse order. Handlers reach them
with `site_of(request)` / `services_of(request)` (app.web).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from jinja2_fragments.fastapi import Jinja2Blocks

from app.course.loader import Course
from app.db import StateDB, default_database_url, open_state
from app.exercises.content import ExerciseCatalog
from app.exercises.databases import GradingDatabases
from app.exercises.service import ExerciseService
from app.exercises.starts import ExerciseStarts, admin_conninfo_of
from app.health import SandboxHealth
from app.identity import Identity
from app.panel.service import PanelLimits, PanelService
from app.panel.starter import prepare_start
from app.progress.service import ProgressService
from app.settings import Settings
from sandbox import SandboxManager

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Site:
    settings: Settings
    templates: Jinja2Blocks
    course: Course
    identity: Identity
    catalog: ExerciseCatalog


@dataclass(frozen=True)
class Services:
    state: StateDB
    sandboxes: SandboxManager
    panel: PanelService
    exercises: ExerciseService
    progress: ProgressService
    health: SandboxHealth  # the sandbox server's last probe, for /healthz


@contextmanager
def running(
    site: Site, sandboxes: SandboxManager | None = None, admit: Callable[[str, str], None] | None = None
) -> Iterator[Services]:
    """Start every service, in dependency order; stop them in reverse. A started `sandboxes` given by
    the caller (tests, bench) is used and left running."""
    settings = site.settings
    with ExitStack() as stack:
        url = settings.database_url or default_database_url(settings.data_dir)
        state = open_state(url, connections=settings.worker_threads + 2)  # + the lifespan's own work
        stack.callback(_quietly, state.dispose)
        if sandboxes is None:
            sandboxes = SandboxManager.from_settings(settings.sandbox, data_dir=settings.data_dir)
            sandboxes.prepare_pooled = prepare_start  # a first visit then only claims a ready workspace
            sandboxes.start()
            stack.callback(_quietly, sandboxes.stop)
        health = SandboxHealth(sandboxes)
        health.start()
        stack.callback(_quietly, health.stop)
        starts = ExerciseStarts(site.catalog, GradingDatabases(admin_conninfo_of(sandboxes)))
        stack.callback(_quietly, starts.close)  # before the sandboxes stop (callbacks run in reverse)
        panel = PanelService(
            state, sandboxes, panel_limits(settings),
            start_source=starts.templates_for, app_queries=site.catalog.app_queries_of, admit=admit,
        )
        exercises = ExerciseService(state, panel, site.catalog, starts)
        progress = ProgressService(state, site.course, site.catalog, settings.secret_key)
        yield Services(state, sandboxes, panel, exercises, progress, health)


def panel_limits(settings: Settings) -> PanelLimits:
    return PanelLimits(
        max_schema_bytes=settings.max_schema_bytes,
        max_sql_bytes=settings.max_sql_bytes,
        workspaces_per_learner=settings.workspaces_per_learner,
        max_result_rows=settings.max_result_rows,
        max_result_bytes=settings.max_result_bytes,
    )


def _quietly(stop: Callable[[], None]) -> None:
    try:
        stop()
    except Exception:  # one failing stop must not keep the others from running
        log.exception("stopping %r failed", stop)
