"""The live sandbox panel: schema editor, migrations, environments, SQL console and terminal.

`install(app)` adds the learner identity, CSRF helpers, the panel's routes, and start/stop hooks that
open the app state (running its Alembic migrations) and the SandboxManager. Tests may put their own
started `SandboxManager` on `app.state.sandboxes` before the app starts; the app then leaves it alone.
"""

from __future__ import annotations

from fastapi import FastAPI

from app.identity import Identity, IdentityMiddleware
from app.panel.render import install_template_helpers


def install(app: FastAPI) -> None:
    from app.panel.routes import router
    from app.project.routes import router as project_router

    settings = app.state.settings
    app.state.identity = Identity(settings.secret_key)
    app.add_middleware(IdentityMiddleware, identity=app.state.identity)
    install_template_helpers(app.state.templates)
    app.include_router(router)
    app.include_router(project_router)  # Download project / Import project
    app.state.nav_links.append(("Playground", "/playground"))
    app.state.on_startup.append(lambda: start(app))
    app.state.on_shutdown.append(lambda: stop(app))


def start(app: FastAPI) -> None:
    from app.db import default_database_url, open_state
    from app.panel.service import PanelLimits, PanelService
    from sandbox.config import SandboxSettings
    from sandbox.manager import SandboxManager

    settings = app.state.settings
    app.state.db = open_state(settings.database_url or default_database_url(settings.data_dir))
    app.state.owns_sandboxes = getattr(app.state, "sandboxes", None) is None

    def sandboxes() -> SandboxManager:
        # Started on the first panel request: pages without a sandbox never pay for a cluster.
        if app.state.sandboxes is None:
            manager = SandboxManager.from_settings(SandboxSettings(), data_dir=settings.data_dir)
            manager.start()
            app.state.sandboxes = manager
        return app.state.sandboxes

    if app.state.owns_sandboxes:
        app.state.sandboxes = None
    limits = PanelLimits(
        max_schema_bytes=settings.max_schema_bytes,
        max_sql_bytes=settings.max_sql_bytes,
        workspaces_per_learner=settings.workspaces_per_learner,
        max_result_rows=settings.max_result_rows,
        max_result_bytes=settings.max_result_bytes,
    )
    app.state.panel = PanelService(app.state.db, sandboxes, limits)
    app.state.panel.admit = getattr(app.state, "admit_workspace", None)


def stop(app: FastAPI) -> None:
    if getattr(app.state, "owns_sandboxes", False) and app.state.sandboxes is not None:
        app.state.sandboxes.stop()
        app.state.sandboxes = None
    if getattr(app.state, "db", None) is not None:
        app.state.db.dispose()
