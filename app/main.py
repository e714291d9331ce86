"""`create_app(settings)`: the map of the web app. It builds the `Site` (no I/O), adds the middleware,
includes every router from one list, and hands the lifespan what it starts (`app.services.running`).

Where things go: a new page or action is a router in ROUTERS; a new long-lived object is a field of
`Site` (built here) or `Services` (started in `app.services.running`); a new setting is a field of a
settings class in app.settings (and a row of the README's Settings table).
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import assets
from app.course.loader import Course
from app.course.routes import router as course_router
from app.csrf import csrf_token
from app.db.engine import default_database_url
from app.errors import exception_handlers
from app.exercises import inline_markdown
from app.exercises.content import ExerciseCatalog
from app.exercises.routes import router as exercise_router
from app.guard import NewLearnerLimit, close_guards, shared_guards
from app.guard.admission import ClientAddress, make_admission
from app.guard.fairshare import FairShare
from app.guard.ratelimit import RateLimiter
from app.guard.settings import GuardSettings
from app.identity import Identity, IdentityMiddleware
from app.instructor.routes import router as instructor_router
from app.panel.render import highlight_sql
from app.panel.routes import router as panel_router
from app.progress.routes import router as progress_router
from app.project.routes import router as project_router
from app.security_headers import SecurityHeaders, cdn_assets
from app.services import Site, running
from app.settings import Settings, prepare
from app.web import STATIC_DIR, TEMPLATES_DIR
from sandbox import SandboxManager

log = logging.getLogger(__name__)

ROUTERS: list[APIRouter] = [
    course_router,  # home, lesson pages, /healthz
    panel_router,  # the sandbox panel (/playground, /panel/<context>/…)
    project_router,  # Download project / Import project
    exercise_router,  # exercise pages, Check my work, hints, solution, reset
    progress_router,  # /progress, /resume/<token>
    instructor_router,  # /instructor
]
NAV_LINKS = [("Lessons", "/"), ("Playground", "/playground"), ("Your progress", "/progress")]


def create_app(settings: Settings | None = None, *, sandboxes: SandboxManager | None = None) -> FastAPI:
    """The app for `settings`. `sandboxes`: an already started manager to use (and leave running)
    instead of starting one from `settings.sandbox` (tests and the bench share one)."""
    settings = prepare(settings or Settings())
    site = Site(
        settings=settings,
        templates=_templates(settings),
        course=Course(settings.lessons_dir),
        identity=Identity(settings.secret_key),
        catalog=ExerciseCatalog(settings.lessons_dir),
    )
    lifespan = _lifespan(site, sandboxes)
    app = FastAPI(
        title="Migration Lab", lifespan=lifespan, exception_handlers=exception_handlers(),
        docs_url=None, redoc_url=None, openapi_url=None,
    )
    app.state.site = site
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router)
    # Defences against a hostile or runaway client (app/guard), added before the identity middleware so
    # that they run inside it and see the learner; the panel calls `admit_workspace` before a new sandbox.
    # Counted in this process, or in the state database when several processes may serve.
    guard = GuardSettings()
    app.state.guard_settings = guard
    database_url = settings.database_url or default_database_url(settings.data_dir)
    storage, slots = shared_guards(guard.rate_limit_storage, database_url)
    app.state.rate_limiter = RateLimiter(storage)
    app.state.fair_share_slots = slots
    app.state.admit_workspace = make_admission(app)
    app.add_middleware(
        FairShare,
        per_learner=guard.actions_per_learner,
        per_client=guard.actions_per_client,
        wait_seconds=guard.action_wait_seconds,
        slots=slots,
    )
    app.add_middleware(NewLearnerLimit, limiter=app.state.rate_limiter, rule=guard.new_learners_per_client)
    app.add_middleware(ClientAddress)
    app.add_middleware(IdentityMiddleware, identity=site.identity)
    app.add_middleware(VaryOnHtmx)
    app.add_middleware(SecurityHeaders, cdn_assets=cdn_assets(settings.assets))
    if settings.assets != "cdn" and (missing := assets.missing_local_assets()):
        fallback = " (pages load them from the CDN meanwhile)" if settings.assets == "auto" else ""
        log.warning("local assets missing (%s): run `make assets`%s", ", ".join(missing), fallback)
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (used by `migration-lab serve`, including with --reload)."""
    return create_app(Settings())


def _lifespan(
    site: Site, sandboxes: SandboxManager | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _tune_threads(site.settings.worker_threads)
        with running(site, sandboxes, admit=getattr(app.state, "admit_workspace", None)) as services:
            app.state.services = services
            try:
                yield
            finally:
                await close_guards(app)

    return lifespan


def _tune_threads(worker_threads: int) -> None:
    """Handlers that touch a database or a file run in the thread pool; the event loop thread must still
    get the interpreter lock quickly to answer (`/healthz`, static files, the next request). A waiting
    thread gets it after the switch interval times the threads ahead of it: fewer threads than anyio's
    40, switching every 1 ms instead of 5, keep that wait to milliseconds under load."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = worker_threads
    sys.setswitchinterval(0.001)


def _templates(settings: Settings) -> Jinja2Blocks:
    templates = Jinja2Blocks(directory=TEMPLATES_DIR)
    templates.env.globals["script_tag"] = lambda name: assets.script_tag(name, settings.assets)
    templates.env.globals["site_name"] = "Migration Lab"
    templates.env.globals["nav_links"] = NAV_LINKS
    templates.env.globals["static_url"] = _static_url
    templates.env.globals["csrf_token"] = csrf_token
    templates.env.globals["ui"] = templates.env.get_template("_macros/ui.html").module
    templates.env.filters["highlight_sql"] = highlight_sql
    templates.env.filters["inline_md"] = inline_markdown
    return templates


@functools.cache
def _static_url(path: str) -> str:
    """A URL that changes when the file does, so browsers may cache static files for long."""
    file = STATIC_DIR / path
    version = file.stat().st_mtime_ns if file.exists() else 0
    return f"/static/{path}?v={version:x}"


class VaryOnHtmx:
    """Pages and their htmx fragments share URLs, so caches must key on the HX-Request header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"vary", b"HX-Request"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_vary)
