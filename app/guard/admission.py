"""Who may get a new sandbox: only for a page that has one, only while the sandbox has room, and only so
many per client address (the rate limit). Called by the panel and the exercises before a workspace is
written, so a refusal leaves nothing behind."""

from __future__ import annotations

from contextvars import ContextVar

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import AppError, NotFound
from app.guard.ratelimit import TooManyRequests
from sandbox import SandboxError

CLIENT_ADDRESS: ContextVar[str] = ContextVar("client_address", default="unknown")


class ClientAddress:
    """Makes the client address known to the services (run in the thread pool, which copies context)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("client"):
            CLIENT_ADDRESS.set(scope["client"][0])
        await self.app(scope, receive, send)


def context_exists(app: FastAPI, context: str) -> bool:
    """`playground`, `lesson-<slug>` of a lesson with a sandbox, or `exercise-<lesson>-<slug>` of an
    exercise in the catalog."""
    if context == "playground":
        return True
    if context.startswith("lesson-"):
        lesson = app.state.site.course.lesson(context.removeprefix("lesson-"))
        return bool(lesson and lesson.available and lesson.meta and lesson.meta.sandbox)
    if context.startswith("exercise-"):
        from app.exercises.service import context_of

        return any(context_of(e) == context for e in app.state.site.catalog.load().exercises)
    return False


def make_admission(app: FastAPI):
    def admit(learner_id: str, context: str) -> None:
        if not context_exists(app, context):
            raise NotFound(
                f"There is no sandbox “{context}”: sandboxes belong to the playground, to lessons that have "
                "one and to exercises."
            )
        sandboxes = app.state.services.sandboxes
        try:
            sandboxes.check_room()
        except SandboxError as exc:
            raise AppError(503, "No room for a new sandbox", str(exc)) from exc
        settings = app.state.guard_settings
        limiter = app.state.rate_limiter
        retry_after = limiter.hit(settings.workspaces_per_client, "workspace", CLIENT_ADDRESS.get())
        if retry_after is not None:
            raise TooManyRequests(
                "new sandboxes", retry_after, "The sandboxes you already have keep working meanwhile."
            )

    return admit
