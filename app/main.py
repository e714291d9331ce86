"""`create_app(settings)`: the web app, built from its settings with no import-time state.

Shared objects live on `app.state`: `settings`, `templates`, `course`. Later features hook in here:
- routers: `app.include_router(...)` in `create_app` (one line per feature);
- start/stop work (the sandbox provider, pools): append callables to `app.state.on_startup` /
  `app.state.on_shutdown`; the lifespan calls them in order at start and in reverse order at stop;
- header links: append `(label, href)` to `app.state.nav_links`;
- extra data on the course home (progress, a better *Continue* target): append a callable
  `(request) -> dict` to `app.state.home_context`; its keys are merged into the home page's context.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import assets, exercises, guard, panel
from app.course.loader import Course
from app.course.routes import router as course_router
from app.errors import install_error_handlers
from app.security_headers import SecurityHeaders, cdn_assets
from app.settings import Settings, prepare
from app.web import STATIC_DIR, TEMPLATES_DIR

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = prepare(settings or Settings())
    app = FastAPI(title="Migration Lab", lifespan=_lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.nav_links = [("Lessons", "/")]
    app.state.templates = _templates(settings, app.state.nav_links)
    app.state.course = Course(settings.lessons_dir)
    app.state.on_startup = []
    app.state.on_shutdown = []
    app.state.home_context = []
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(course_router)
    guard.install(app)  # rate limits and fair share (inside the identity middleware panel adds)
    panel.install(app)  # learner identity, CSRF, the sandbox panel and its start/stop hooks
    exercises.install(app)  # exercise pages and grading, progress, /instructor
    app.add_middleware(VaryOnHtmx)
    app.add_middleware(SecurityHeaders, cdn_assets=cdn_assets(settings.assets))
    if settings.assets != "cdn" and (missing := assets.missing_local_assets()):
        fallback = " (pages load them from the CDN meanwhile)" if settings.assets == "auto" else ""
        log.warning("local assets missing (%s): run `make assets`%s", ", ".join(missing), fallback)
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (used by `migration-lab serve`, including with --reload)."""
    return create_app(Settings())


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    for hook in app.state.on_startup:
        hook()
    try:
        yield
    finally:
        for hook in reversed(app.state.on_shutdown):
            try:
                hook()
            except Exception:  # one failing stop must not keep the others from running
                log.exception("shutdown hook %r failed", hook)


def _templates(settings: Settings, nav_links: list[tuple[str, str]]) -> Jinja2Blocks:
    templates = Jinja2Blocks(directory=TEMPLATES_DIR)
    templates.env.globals["script_tag"] = lambda name: assets.script_tag(name, settings.assets)
    templates.env.globals["site_name"] = "Migration Lab"
    templates.env.globals["nav_links"] = nav_links
    templates.env.globals["static_url"] = _static_url
    templates.env.globals["ui"] = templates.env.get_template("_macros/ui.html").module
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
