"""Helpers of the concurrency tests: the served app, a /healthz watcher, timing, CSRF headers."""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.db import StateDB

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HTMX = {"HX-Request": "true"}


@dataclass
class Served:
    url: str
    state: StateDB  # the served app's state database, read from this process

    def learner(self) -> httpx.Client:
        """A new browser: its own cookie jar (the learner id comes with the first answer)."""
        return httpx.Client(base_url=self.url, timeout=60)


# Run in a process of its own, so that what it measures is the server's answer time alone, not this
# process's threads (the test's own clients) competing for the interpreter lock.
WATCH_SCRIPT = """
import json, sys, time, pathlib, httpx
url, stop = sys.argv[1], pathlib.Path(sys.argv[2])
timings, failures = [], []
with httpx.Client(base_url=url, timeout=10) as client:
    client.get("/healthz")
    print("ready", flush=True)
    while not stop.exists():
        started = time.perf_counter()
        answer = client.get("/healthz")
        timings.append(time.perf_counter() - started)
        if answer.status_code != 200:
            failures.append(f"{answer.status_code}: {answer.text[:200]}")
        time.sleep(0.02)
print(json.dumps({"timings": timings, "failures": failures}), flush=True)
"""


@dataclass
class HealthWatch:
    """Asks /healthz every 20 ms from another process while the block runs: how long the event loop
    took to answer, whatever the thread pool was doing."""

    url: str
    timings: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __enter__(self) -> HealthWatch:
        self._dir = tempfile.TemporaryDirectory()
        self._stop = Path(self._dir.name) / "stop"
        self._process = subprocess.Popen(
            [sys.executable, "-c", WATCH_SCRIPT, self.url, str(self._stop)], stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        assert self._process.stdout.readline().strip() == "ready"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.touch()
        out, _ = self._process.communicate(timeout=30)
        self._dir.cleanup()
        result = json.loads(out.strip().splitlines()[-1])
        self.timings, self.failures = result["timings"], result["failures"]

    def summary(self) -> str:
        ms = sorted(t * 1000 for t in self.timings)
        slowest = ", ".join(f"{t:.0f}" for t in ms[-5:])
        return f"/healthz: {len(ms)} answers, median {statistics.median(ms):.1f} ms, slowest {slowest} ms"


def csrf_headers(page: httpx.Response) -> dict[str, str]:
    found = CSRF.search(page.text)
    assert found, page.text[:2000]
    return {**HTMX, "X-CSRF-Token": found.group(1)}


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    answer = call()
    return answer, time.perf_counter() - started
