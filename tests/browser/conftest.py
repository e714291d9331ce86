"""Browser tests: a live uvicorn server in a thread and headless Chromium through Playwright.

Without /usr/bin/chromium the tests are skipped with the reason shown; under CI (`CI=true`) they fail
instead, so that CI always exercises a real browser. Each test leaves a screenshot in test-results/.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
RESULTS = Path(__file__).resolve().parent.parent.parent / "test-results"


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1 until the block ends; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.02)
        if not server.started:
            raise RuntimeError("the live server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, pg_cluster) -> Iterator[str]:
    from sandbox.config import SandboxSettings
    from sandbox.manager import SandboxManager

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("browser-data"), lessons_dir=repo_root / "lessons", assets="local"
    )
    sandboxes = SandboxManager.over_cluster(pg_cluster, SandboxSettings(pool_size=0, sandbox_prefix="tlive"))
    sandboxes.start(background=False)
    try:
        with serve(create_app(settings, sandboxes=sandboxes)) as url:
            yield url
    finally:
        sandboxes.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium): browser tests not run"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + ", and CI must run them")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., object]]:
    """Open pages in fresh contexts (`new_page(color_scheme="dark")`); each is screenshotted at the end."""
    contexts = []

    def open_page(**context_options: object):
        context = browser.new_context(**{"viewport": {"width": 1440, "height": 900}, **context_options})
        contexts.append(context)
        return context.new_page()

    yield open_page
    RESULTS.mkdir(exist_ok=True)
    for index, context in enumerate(contexts):
        for page in context.pages:
            suffix = f"-{index}" if index else ""
            page.screenshot(path=str(RESULTS / f"{request.node.name}{suffix}.png"), full_page=False)
        context.close()


@pytest.fixture
def page(new_page: Callable[..., object]) -> object:
    return new_page()


@contextmanager
def served_course(data_dir: Path, lessons_dir: Path, cluster: object, prefix: str) -> Iterator[str]:
    """The app over the test cluster (its own sandbox prefix, no warm pool), served on 127.0.0.1."""
    from sandbox.config import SandboxSettings
    from sandbox.manager import SandboxManager

    sandboxes = SandboxManager.over_cluster(cluster, SandboxSettings(pool_size=0, sandbox_prefix=prefix))  # type: ignore[arg-type]
    sandboxes.start(background=False)
    settings = Settings(data_dir=data_dir, lessons_dir=lessons_dir, assets="local")
    try:
        with serve(create_app(settings, sandboxes=sandboxes)) as url:
            yield url
    finally:
        sandboxes.stop()
