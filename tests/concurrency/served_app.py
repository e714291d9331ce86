"""Helpers of the concurrency tests: the served app, a /healthz watcher, timing, CSRF headers."""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HTMX = {"HX-Request": "true"}


@dataclass
class Served:
    url: str
    app: FastAPI

    def learner(self) -> httpx.Client:
        """A new browser: its own cookie jar (the learner id comes with the first answer)."""
        return httpx.Client(base_url=self.url, timeout=60)


@dataclass
class HealthWatch:
    """Asks /healthz every 20 ms from its own connection while the block runs: how long the event loop
    took to answer, whatever the thread pool was doing."""

    url: str
    timings: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __enter__(self) -> HealthWatch:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            client.get("/healthz")  # the connection is open before the first timing
            while not self._stop.is_set():
                started = time.perf_counter()
                answer = client.get("/healthz")
                self.timings.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    self.failures.append(f"{answer.status_code}: {answer.text[:200]}")
                self._stop.wait(0.02)

    def summary(self) -> str:
        ms = sorted(t * 1000 for t in self.timings)
        return f"/healthz: {len(ms)} answers, median {statistics.median(ms):.1f} ms, max {ms[-1]:.1f} ms"


def csrf_headers(page: httpx.Response) -> dict[str, str]:
    found = CSRF.search(page.text)
    assert found, page.text[:2000]
    return {**HTMX, "X-CSRF-Token": found.group(1)}


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    answer = call()
    return answer, time.perf_counter() - started
