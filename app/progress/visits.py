"""Record lesson visits without touching the course routes: a GET of `/lessons/<slug>` answered 200."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LESSON_PATH = re.compile(r"^/lessons/([a-z0-9][a-z0-9-]*)/?$")


class LessonVisitMiddleware:
    def __init__(self, app: ASGIApp, record) -> None:
        self.app = app
        self.record = record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = LESSON_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        learner = scope.get("state", {}).get("learner_id")
        if status == 200 and learner:
            from starlette.concurrency import run_in_threadpool

            await run_in_threadpool(self.record, learner, match.group(1))
