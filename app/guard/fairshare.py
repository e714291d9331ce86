"""Fair share of the worker threads: each learner (and each client address) may have a few sandbox
requests running at once. More wait on the event loop, holding no thread, for a short while; then they
get a 429 message. So 45 slow queries from one learner queue behind their own two, and every other
learner's request still finds a free thread."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import AppError, error_response

SANDBOX_PATHS = re.compile(r"^/(playground|panel/|lessons/[^/]+/exercises/[^/]+)")
POLL_S = 0.05


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
        self, app: ASGIApp, per_learner: int, per_client: int, wait_seconds: float
    ) -> None:
        self.app = app
        self.per_learner = per_learner
        self.per_client = per_client
        self.wait_seconds = wait_seconds
        self.running: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not SANDBOX_PATHS.match(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        learner = "learner:" + str(scope.get("state", {}).get("learner_id", ""))
        client = "client:" + (scope["client"][0] if scope.get("client") else "unknown")
        started = time.monotonic()
        # Single-threaded event loop: checking and counting between two awaits cannot interleave.
        while self.running[learner] >= self.per_learner or self.running[client] >= self.per_client:
            waited = time.monotonic() - started
            if waited >= self.wait_seconds:
                response = error_response(Request(scope), Busy(self.per_learner, waited))
                await response(scope, receive, send)
                return
            await asyncio.sleep(POLL_S)
        self.running[learner] += 1
        self.running[client] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            for key in (learner, client):
                self.running[key] -= 1
                if self.running[key] <= 0:
                    del self.running[key]
