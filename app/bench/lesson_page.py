"""Lesson-page server time through the ASGI app (no network, no client library): first render and cached."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from fastapi import FastAPI
from starlette.types import Message

from app.bench.core import Measurement, sample_ms
from app.main import create_app
from app.settings import Settings
from app.web import ROOT

LESSON = "01-migration-concepts"


def run(n: int) -> list[Measurement]:
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(Settings(data_dir=Path(data_dir), lessons_dir=ROOT / "lessons", assets="local"))
        loop = asyncio.new_event_loop()
        # Start the app as a server would (its lifespan hooks), and stop it after the measurements.
        lifespan = app.router.lifespan_context(app)
        loop.run_until_complete(lifespan.__aenter__())
        try:
            return _measure(app, loop, n)
        finally:
            loop.run_until_complete(lifespan.__aexit__(None, None, None))
            loop.close()


def _measure(app: FastAPI, loop: asyncio.AbstractEventLoop, n: int) -> list[Measurement]:
    def get(path: str) -> None:
        loop.run_until_complete(_get(app, path))

    def first_render() -> None:
        app.state.site.course._cache.clear()
        get(f"/lessons/{LESSON}")

    target = "<= 10 ms median"
    return [
        Measurement("lesson page, first render", sample_ms(first_render, max(5, n // 5))),
        Measurement("lesson page, cached", sample_ms(lambda: get(f"/lessons/{LESSON}"), n), target=target),
        Measurement("course home, cached", sample_ms(lambda: get("/"), n), target=target),
    ]


async def _get(app: FastAPI, path: str) -> None:
    """One GET through the ASGI interface, as a server would call it; fails loudly on a non-200."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"bench"), (b"accept", b"text/html")],
        "client": ("127.0.0.1", 1), "server": ("bench", 80),
    }
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
