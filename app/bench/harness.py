"""The app a bench suite drives through HTTP: its own embedded cluster, a learner with a CSRF token."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.web import ROOT

# The course the suites measure is this checkout's, wherever `migration-lab bench` is run from.
LESSONS = ROOT / "lessons"
HTMX = {"HX-Request": "true"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class BenchLearner:
    app: Any  # FastAPI; kept loose so importing the suite stays cheap
    client: Any  # fastapi.testclient.TestClient
    sandboxes: Any  # sandbox.manager.SandboxManager
    headers: dict[str, str]  # htmx request + the learner's CSRF token


@contextmanager
def learner_on_playground(name: str) -> Iterator[BenchLearner]:
    """A fresh app over a private cluster (no warm pool), with one learner who opened /playground."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings
    from sandbox import EmbeddedCluster, SandboxManager, SandboxSettings

    root = Path(tempfile.mkdtemp(prefix=f"migration-lab-bench-{name}-"))
    cluster = EmbeddedCluster.create(root, name=f"bench-{name}")
    cluster.start()
    prefix = "b" + re.sub(r"[^a-z0-9]", "", name.lower())
    sandboxes = SandboxManager.over_cluster(cluster, SandboxSettings(pool_size=0, sandbox_prefix=prefix))
    sandboxes.start(background=False)
    try:
        settings = Settings(data_dir=root / "data", lessons_dir=LESSONS, assets="local")
        app = create_app(settings, sandboxes=sandboxes)
        with TestClient(app) as client:
            page = client.get("/playground")
            token = CSRF.search(page.text)
            if token is None:
                raise RuntimeError(f"/playground gave no CSRF token:\n{page.text[:2000]}")
            yield BenchLearner(app, client, sandboxes, {**HTMX, "X-CSRF-Token": token.group(1)})
    finally:
        sandboxes.stop()
        cluster.stop(wipe=True)
        shutil.rmtree(root, ignore_errors=True)
