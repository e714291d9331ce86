"""Fair share of the worker threads: each learner (and each client address) may have a few sandbox
requests running at once. More wait on the event loop, holding no thread, for a short while; then they
get a 429 message. So 45 slow queries from one learner queue behind their own two, and every other
learner's request still finds a free thread.

The slots are counted by `app.guard.slots`: in this process, or across every worker and replica (lock
file or PostgreSQL advisory locks), so that N workers do not give one learner N times the slots."""

from __future__ import annotations

import asyncio
import re
import time

import anyio
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import AppError, error_response
from app.guard.slots import Slots

SANDBOX_PATHS = re.compile(r"^/(playground|panel/|lessons/[^/]+/exercises/[^/]+)")
POLL_S = 0.05
# Shared slots cost a database round trip per look: a waiting request looks less and less often.
POLL_MAX_S = 0.25


class Busy(AppError):
    def __init__(self, limit: int, waited: float) -> None:
        super().__init__(
            429,
            "Still busy with your other actions",
            f"You already have {limit} sandbox actions running (the most one learner may run at once); "
            f"this one waited {waited:.0f} s for them. Wait for them to finish, then try again.",
        )
        self.headers = {"Retry-After": "2"}


class FairShare:
    def __init__(
        self, app: ASGIApp, per_learner: int, per_client: int, wait_seconds: float, slots: Slots | None = None
    ) -> None:
        self.app = app
        self.per_learner = per_learner
        self.per_client = per_client
        self.wait_seconds = wait_seconds
        self.slots = slots or Slots()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not SANDBOX_PATHS.match(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        learner = "learner:" + str(scope.get("state", {}).get("learner_id", ""))
        client = "client:" + (scope["client"][0] if scope.get("client") else "unknown")
        started, pause = time.monotonic(), POLL_S
        while (held := await self._take(learner, client)) is None:
            waited = time.monotonic() - started
            if waited >= self.wait_seconds:
                response = error_response(Request(scope), Busy(self.per_learner, waited))
                await response(scope, receive, send)
                return
            await asyncio.sleep(pause)
            if self.slots.shared:
                pause = min(pause * 1.5, POLL_MAX_S)
        try:
            await self.app(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):  # a slot left taken would hold the learner back for good
                await self.slots.give_back_each(held)

    async def _take(self, learner: str, client: str) -> list[tuple[str, int]] | None:
        """A slot of the learner and one of the client address, or neither."""
        with anyio.CancelScope(shield=True):
            return await self.slots.take_each([(learner, self.per_learner), (client, self.per_client)])
        return None  # only when the shield's scope was cancelled from outside (never: it is shielded)
