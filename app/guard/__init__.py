"""Defences of the host and of the other learners against one hostile or runaway client.

`install(app)` (before the identity middleware is added, so that it runs inside it and sees the learner):
- `app.state.rate_limiter`: per-client rate limits (new identities here; new sandboxes in the panel;
  failed instructor sign-ins in /instructor), 429 with Retry-After;
- `app.state.admit_workspace(learner, context)`: refuses a sandbox for a page that has none, when the
  sandbox is full or low on space, and over the rate limit (`admission`);
- fair share: a few sandbox requests at once per learner and per client address (`fairshare`).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import error_response
from app.guard.admission import ClientAddress, make_admission
from app.guard.fairshare import FairShare
from app.guard.ratelimit import RateLimiter, TooManyRequests
from app.guard.settings import GuardSettings

UNCOUNTED_PATHS = ("/static/", "/healthz", "/favicon")


def install(app: FastAPI) -> None:
    settings = getattr(app.state, "guard_settings", None) or GuardSettings()
    app.state.guard_settings = settings
    app.state.rate_limiter = RateLimiter(settings.rate_limit_storage)
    app.state.admit_workspace = make_admission(app)  # the panel calls it before writing a new workspace
    app.add_middleware(
        FairShare,
        per_learner=settings.actions_per_learner,
        per_client=settings.actions_per_client,
        wait_seconds=settings.action_wait_seconds,
    )
    app.add_middleware(NewLearnerLimit, limiter=app.state.rate_limiter, rule=settings.new_learners_per_client)
    app.add_middleware(ClientAddress)


class NewLearnerLimit:
    """A request without a valid learner cookie starts a new identity (and, on a lesson or a sandbox, rows
    and databases): one address may start only so many."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, rule: str) -> None:
        self.app = app
        self.limiter = limiter
        self.rule = rule

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        new = scope["type"] == "http" and scope.get("state", {}).get("new_learner")
        if new and not scope["path"].startswith(UNCOUNTED_PATHS):
            client = scope["client"][0] if scope.get("client") else "unknown"
            retry_after = self.limiter.hit(self.rule, "new-learner", client)
            if retry_after is not None:
                advice = "Your browser must keep this site's cookie: allow cookies for it."
                error = TooManyRequests("new visitors", retry_after, advice)
                await error_response(Request(scope), error)(scope, receive, send)
                return
        await self.app(scope, receive, send)
