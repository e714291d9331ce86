"""Defences of the host and of the other learners against one hostile or runaway client, registered by
`create_app` (app/main.py):
- `app.state.rate_limiter`: per-client rate limits (new identities here; new sandboxes in the panel;
  failed instructor sign-ins in /instructor), 429 with Retry-After;
- `app.state.admit_workspace(learner, context)`: refuses a sandbox for a page that has none, when the
  sandbox is full or low on space, and over the rate limit (`admission`);
- fair share: a few sandbox requests at once per learner and per client address (`fairshare`).

Counters and slots are per process when one process serves (`memory://`); shared through the app's state
database when several do (`serve --workers N`, replicas on PostgreSQL): see `shared_guards`.
"""

from __future__ import annotations

from pathlib import Path

import anyio
from fastapi import FastAPI
from limits.storage import MemoryStorage, Storage, storage_from_string
from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import error_response
from app.guard.ratelimit import RateLimiter, TooManyRequests
from app.guard.slots import AdvisorySlots, FileSlots, Slots
from app.guard.sqlstorage import StateStorage

UNCOUNTED_PATHS = ("/static/", "/healthz", "/favicon")


def shared_guards(choice: str, database_url: str) -> tuple[Storage, Slots]:
    """The rate-limit storage and the fair-share slots for `RATE_LIMIT_STORAGE` = `choice`."""
    postgres = make_url(database_url).get_backend_name() == "postgresql"
    if choice == "auto":
        choice = "state" if postgres else "memory://"  # `serve --workers N` sets `state` for its workers
    database = make_url(database_url).database or ":memory:"
    if choice == "memory://" or (not postgres and database == ":memory:"):  # an in-memory state: one process
        return MemoryStorage(), Slots()
    storage = StateStorage(database_url) if choice == "state" else storage_from_string(choice)
    if not isinstance(storage, Storage):
        raise ValueError(f"RATE_LIMIT_STORAGE: {choice} is an asynchronous storage; give its synchronous URL")
    if postgres:
        return storage, AdvisorySlots(libpq_url(database_url))
    return storage, FileSlots(Path(database).with_name(Path(database).name + ".locks") / "fair-share")


def libpq_url(database_url: str) -> str:
    """The state URL as libpq reads it (SQLAlchemy's `postgresql+psycopg://` spelling dropped)."""
    scheme, rest = database_url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgresql") else database_url


async def close_guards(app: FastAPI) -> None:
    """At shutdown: the slots' connection and the storage's engine."""
    await app.state.fair_share_slots.close()
    storage = app.state.rate_limiter.storage
    if isinstance(storage, StateStorage):
        storage.close()


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
            hit = (self.rule, "new-learner", client)
            if self.limiter.shared:  # a database round trip: not on the event loop
                retry_after = await anyio.to_thread.run_sync(self.limiter.hit, *hit)
            else:
                retry_after = self.limiter.hit(*hit)
            if retry_after is not None:
                advice = "Your browser must keep this site's cookie: allow cookies for it."
                error = TooManyRequests("new visitors", retry_after, advice)
                await error_response(Request(scope), error)(scope, receive, send)
                return
        await self.app(scope, receive, send)
