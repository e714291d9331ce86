"""Suite `load`: many learners at once against the real app, served by uvicorn on 127.0.0.1.

PRODUCT.md's target: 100 concurrent active learners on one 2-core machine, p95 action latency <= 1 s.
Each simulated learner has its own cookie jar (its own learner id and workspace), arrives during the
first RAMP_S seconds, opens /playground (its workspace is created then: measured apart, as "first open"),
then repeats the mix of ACTIONS, pausing THINK_MS on average (0.5x to 1.5x, at random) before each, as
someone reading the result before the next click. `n` is the number of actions per learner; the number
of learners comes from MIGRATION_LAB_BENCH_LEARNERS (default 100) and the pause from
MIGRATION_LAB_BENCH_THINK_MS (default 2000), since the bench CLI has only `-n`.

Every request goes to 127.0.0.1 only; the run stops by itself at DEADLINE_S (actions not started by then
are reported as not run, a request still running then counts as an error when it times out).
An error is any non-2xx answer, a timeout, or an answer without its success mark (an error panel).

The client runs in this process beside the server (one asyncio loop, one `Browser` per learner), so
its own CPU time (a few percent of the total at 100 learners) shares the GIL with the server and is part
of the latencies measured: the figures are a little pessimistic, never optimistic.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from app.bench.core import Measurement
from app.bench.harness import CSRF, HTMX, LESSONS
from app.panel.starter import STARTER_SCHEMA, prepare_start
from app.serve_cli import KEEP_ALIVE_S
from sandbox import EmbeddedCluster

LEARNERS = 100
THINK_MS = 2000.0
RAMP_S = 10.0
DEADLINE_S = 150.0  # the default run (50 actions, 2 s pauses, 10 s ramp) needs ~115 s
REQUEST_TIMEOUT_S = 30.0
POOL_MARGIN = 8  # workspaces the pool may build beyond the class while it is there
ACTIONS = ("fragment", "create_migration", "sql", "deploy_staging")
TARGET = "p95 <= 1 s at 100 learners (PRODUCT.md)"
# The app's own state database: SQLite in the data folder (a single server's default) and PostgreSQL (what a
# hosted class with several workers uses), each run in full; the PostgreSQL rows are named load_pg_*.
STATES = ("sqlite", "postgresql")
STATE_PREFIX = {"sqlite": "load_", "postgresql": "load_pg_"}
# Alternately added and dropped: always NULL, so dropping it loses no data and needs no confirmation.
FIELD = "  nickname String?\n"
# What each answer must contain when the action did what the learner asked.
SUCCESS = {
    "first_open": 'id="panel-migration"',
    "fragment": 'id="panel-migration"',
    "create_migration": "Created and applied",
    "sql": "<table>",
    "deploy_staging": 'class="notice ok"',
}


@dataclass
class Results:
    first_open: list[float] = field(default_factory=list)
    actions: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in ACTIONS})
    errors: list[str] = field(default_factory=list)
    not_run: int = 0

    def error(self, learner: int, kind: str, what: str) -> None:
        self.errors.append(f"learner {learner}, {kind}: {what}")


def run(
    n: int,
    learners: int | None = None,
    think_ms: float | None = None,
    ramp_s: float = RAMP_S,
    deadline_s: float = DEADLINE_S,
    states: tuple[str, ...] = STATES,
) -> list[Measurement]:
    learners = learners or int(os.environ.get("MIGRATION_LAB_BENCH_LEARNERS", LEARNERS))
    if think_ms is None:
        think_ms = float(os.environ.get("MIGRATION_LAB_BENCH_THINK_MS", THINK_MS))
    plan = f"{learners} learners x {n} actions, think {think_ms:.0f} ms, deadline {deadline_s:.0f} s"
    print(f"load: {plan}", file=sys.stderr)
    measurements = []
    for state in states:
        with served_app(state, workspaces=learners + POOL_MARGIN, pool=learners) as base_url:
            started = time.perf_counter()
            results = asyncio.run(_drive(base_url, learners, n, think_ms / 1000, ramp_s, deadline_s))
            elapsed = time.perf_counter() - started
        for line in results.errors[:10]:
            print(f"load error ({state} state): {line}", file=sys.stderr)
        measurements += _measurements(results, elapsed, STATE_PREFIX[state])
    return measurements


def _measurements(results: Results, elapsed: float, prefix: str = "load_") -> list[Measurement]:
    every = [ms for samples in results.actions.values() for ms in samples]
    measurements = [Measurement(f"{prefix}action_ms", every, target=TARGET)]
    measurements += [
        Measurement(f"{prefix}{kind}_ms", samples, target="p95 <= 1 s")
        for kind, samples in results.actions.items()
        if samples
    ]
    measurements += [
        Measurement(f"{prefix}first_open_ms", results.first_open, target="workspace created on first visit"),
        Measurement(f"{prefix}errors", value=len(results.errors), unit="errors", target="0"),
        Measurement(f"{prefix}actions_not_run", value=results.not_run, unit="actions", target="0 (deadline)"),
        Measurement(f"{prefix}throughput", value=round(len(every) / elapsed, 2), unit="actions/s"),
    ]
    return measurements


@contextmanager
def served_app(state: str = "sqlite", workspaces: int = 200, pool: int = 8) -> Iterator[str]:
    """The real app (own data folder, embedded sandbox cluster, local assets) served by uvicorn on a free
    port of 127.0.0.1 in a background thread; yields its base URL and removes everything afterwards.
    `state`: where the app keeps its own state, `sqlite` (in the data folder) or `postgresql` (a database
    on a cluster of its own, apart from the sandboxes' as a hosted deployment has it)."""
    import uvicorn

    from app.main import create_app
    from app.settings import Settings
    from sandbox import SandboxManager, SandboxSettings

    root = Path(tempfile.mkdtemp(prefix="migration-lab-bench-load-"))
    data_dir = root / "data"
    # The deployed set-up (a warm pool refilled in the background; the reaper) in a private cluster, with
    # the pool filled for the class before it comes, as the README tells instructors to.
    sandbox_settings = SandboxSettings(
        sandbox="embedded", sandbox_prefix="bload", max_workspaces=workspaces, pool_size=pool
    )
    sandboxes = SandboxManager.from_settings(sandbox_settings, data_dir=data_dir)
    sandboxes.prepare_pooled = prepare_start  # as app.services does
    sock = socket.socket()
    state_cluster = None
    if state == "postgresql":
        state_cluster = EmbeddedCluster.create(root / "state", name="bench-state")
    try:
        database_url = ""
        if state_cluster is not None:
            state_cluster.start()
            database_url = _state_database(state_cluster)
        sandboxes.start()
        sandboxes.fill_pool()  # a running server's pool is full before a class arrives
        settings = Settings(data_dir=data_dir, lessons_dir=LESSONS, assets="local", database_url=database_url)
        app = create_app(settings, sandboxes=sandboxes)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", access_log=False, timeout_keep_alive=KEEP_ALIVE_S
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 30
            while not server.started and thread.is_alive() and time.monotonic() < deadline:
                time.sleep(0.02)
            if not server.started:
                raise RuntimeError("the app did not start under uvicorn")
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=30)
    finally:
        sock.close()
        sandboxes.stop()
        if state_cluster is not None:
            state_cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def _state_database(cluster: EmbeddedCluster) -> str:
    import psycopg

    with psycopg.connect(cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE migration_lab")
    return f"postgresql://{cluster.superuser}@/migration_lab?host={cluster.socket_dir}&port={cluster.port}"


async def _drive(
    base_url: str, learners: int, n: int, think_s: float, ramp_s: float, deadline_s: float
) -> Results:
    results = Results()
    stop_at = time.monotonic() + deadline_s
    tasks = [
        asyncio.create_task(
            _learner(i, base_url, n, think_s, ramp_s * i / learners, stop_at, random.Random(i), results)
        )
        for i in range(learners)
    ]
    # Every learner stops starting actions at the deadline; this bounds the one still running then.
    done, pending = await asyncio.wait(tasks, timeout=deadline_s + REQUEST_TIMEOUT_S + 5)
    for task in pending:
        task.cancel()
    for task in done:
        if task.exception() is not None:
            results.errors.append(f"learner crashed: {task.exception()!r}")
    return results


async def _learner(
    index: int,
    base_url: str,
    n: int,
    think_s: float,
    arrive_s: float,
    stop_at: float,
    rng: random.Random,
    results: Results,
) -> None:
    await asyncio.sleep(arrive_s)
    if time.monotonic() >= stop_at:
        results.not_run += n
        return
    # Each learner is a browser of its own: its own connection, cookie jar (learner id) and address (as
    # behind a proxy: uvicorn trusts X-Forwarded-For from 127.0.0.1), so the per-client rate limits of a
    # deployment see a class, not one machine.
    address = {"X-Forwarded-For": f"10.77.{index // 250}.{index % 250 + 1}"}
    async with Browser(base_url, address) as client:
        page = await _timed(client, "GET", "/playground", index, "first_open", results, results.first_open)
        token = CSRF.search(page or "")
        if token is None:
            results.not_run += n
            return
        headers = {**HTMX, "X-CSRF-Token": token.group(1)}
        with_field = False
        for step in range(n):
            pause = think_s * rng.uniform(0.5, 1.5)
            if time.monotonic() + pause >= stop_at:
                results.not_run += n - step
                return
            await asyncio.sleep(pause)
            kind = ACTIONS[step % len(ACTIONS)]
            method, url, form = _request(kind, with_field)
            body = await _timed(
                client, method, url, index, kind, results, results.actions[kind], headers=headers, data=form
            )
            if kind == "create_migration" and body is not None:
                with_field = not with_field


@dataclass
class Answer:
    status: int
    text: str

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300


class ClientError(Exception):
    """The connection failed or the answer could not be read (a timeout is TimeoutError)."""


class Browser:
    """One learner's browser: a keep-alive connection of its own and the cookies the app set. HTTP/1.1 is
    written and read here, the answer parsed by httptools (uvicorn's parser, in C): the client runs on the
    machine it measures, and a client library's CPU is CPU the server's cores lack (httpx cost 1.1 ms per
    request, httpcore with its pure-Python h11 0.7 ms; a browser spends none of the server's)."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        netloc = base_url.split("://", 1)[1]
        self.host, _, port = netloc.partition(":")
        self.port = int(port or 80)
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in {"Host": netloc, **headers}.items())
        self.cookies: dict[str, str] = {}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._close()

    async def request(
        self, method: str, url: str, headers: dict[str, str] | None = None, data: dict[str, str] | None = None
    ) -> Answer:
        body = urlencode(data).encode() if data is not None else b""
        head = f"{method} {url} HTTP/1.1\r\n{self.fixed}"
        head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        if self.cookies:
            head += "Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()) + "\r\n"
        if method != "GET":
            head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        message = head.encode() + b"\r\n" + body
        return await asyncio.wait_for(self._exchange(message), REQUEST_TIMEOUT_S)

    async def _exchange(self, message: bytes) -> Answer:
        reused = self.writer is not None
        try:
            return await self._send(message)
        except _Closed:
            if not reused:
                raise ClientError("the server closed the connection before answering") from None
            return await self._send(message)  # the kept connection had timed out: once more, anew

    async def _send(self, message: bytes) -> Answer:
        import httptools

        if self.writer is None:
            try:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            except OSError as exc:
                raise ClientError(f"cannot connect: {exc}") from exc
        assert self.reader is not None
        answer = _Answer()
        parser = answer.parser = httptools.HttpResponseParser(answer)
        try:
            self.writer.write(message)
            started = False
            while not answer.complete:
                chunk = await self.reader.read(65536)
                if not chunk:
                    self._close()
                    if started:
                        raise ClientError("the connection closed in the middle of the answer")
                    raise _Closed
                started = True
                parser.feed_data(chunk)
        except (OSError, httptools.HttpParserError) as exc:
            self._close()
            raise ClientError(f"{type(exc).__name__}: {exc}") from exc
        if not answer.keep_alive:
            self._close()
        for value in answer.set_cookies:
            for morsel in SimpleCookie(value).values():
                self.cookies[morsel.key] = morsel.value
        return Answer(parser.get_status_code(), b"".join(answer.body).decode("utf-8", errors="replace"))

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class _Closed(Exception):
    """The connection was closed before any of the answer came."""


class _Answer:
    """httptools' callbacks, collecting one answer."""

    def __init__(self) -> None:
        self.parser: Any = None
        self.body: list[bytes] = []
        self.set_cookies: list[str] = []
        self.keep_alive = False
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"set-cookie":
            self.set_cookies.append(value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()  # known only while the answer is parsed

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


def _request(kind: str, with_field: bool) -> tuple[str, str, dict[str, str] | None]:
    """Method, URL and form of one action, as the panel's htmx sends them."""
    if kind == "fragment":
        return "GET", "/panel/playground", None
    if kind == "create_migration":
        if with_field:
            return "POST", "/panel/playground/migrations", {"schema": STARTER_SCHEMA, "name": "drop nickname"}
        schema = STARTER_SCHEMA.replace("  name  String?\n", "  name  String?\n" + FIELD)
        return "POST", "/panel/playground/migrations", {"schema": schema, "name": "add nickname"}
    if kind == "sql":
        return "POST", "/panel/playground/sql", {"env": "dev", "sql": 'SELECT * FROM "User" ORDER BY id;'}
    return "POST", "/panel/playground/envs/staging/deploy", None


async def _timed(
    client, method: str, url: str, index: int, kind: str, results: Results, samples: list[float], **kwargs
) -> str | None:
    """One request, its latency appended to `samples`; the body when it succeeded, else None (and an
    error recorded)."""
    start = time.perf_counter()
    try:
        response = await client.request(method, url, **kwargs)
    except (ClientError, TimeoutError) as exc:
        # A timeout is a latency too: leaving it out would make a saturated server look fast.
        samples.append((time.perf_counter() - start) * 1000)
        results.error(index, kind, f"{type(exc).__name__}: {exc}")
        return None
    samples.append((time.perf_counter() - start) * 1000)
    if not response.is_success:
        results.error(index, kind, f"HTTP {response.status}: {response.text[:300]}")
        return None
    if SUCCESS[kind] not in response.text:
        results.error(index, kind, f"no {SUCCESS[kind]!r} in the answer: {response.text[:300]}")
        return None
    return response.text
