"""Suite `panel`: Create migration through HTTP, as the browser sends it (CSRF, htmx headers), on a
real workspace; one sample = parse, shadow replay, diff, render, apply to dev, save the state, and
render the migration, history and environment partials. Also the panel's own fragment (a page load).

Each sample adds one column, so the history grows by one migration per sample, as a learner's does.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from app.bench.core import Measurement, sample_ms
from app.panel.starter import STARTER_SCHEMA

HTMX = {"HX-Request": "true"}


def run(n: int) -> list[Measurement]:
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings
    from sandbox.cluster import EmbeddedCluster
    from sandbox.config import SandboxSettings
    from sandbox.manager import SandboxManager

    root = Path(tempfile.mkdtemp(prefix="migration-lab-bench-panel-"))
    cluster = EmbeddedCluster.create(root, name="bench-panel")
    cluster.start()
    sandboxes = SandboxManager.over_cluster(cluster, SandboxSettings(pool_size=0, sandbox_prefix="bpanel"))
    sandboxes.start(background=False)
    try:
        app = create_app(Settings(data_dir=root / "data", assets="local"))
        app.state.sandboxes = sandboxes
        with TestClient(app) as client:
            page = client.get("/playground")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            headers = {**HTMX, "X-CSRF-Token": token}
            fields: list[str] = []

            def create() -> None:
                fields.append(f"f{len(fields)}")
                schema = STARTER_SCHEMA.replace(
                    "  name  String?\n", "  name  String?\n" + "".join(f"  {f} String?\n" for f in fields)
                )
                response = client.post(
                    "/panel/playground/migrations",
                    data={"schema": schema, "name": f"add {fields[-1]}"},
                    headers=headers,
                )
                if "Created and applied" not in response.text:
                    raise RuntimeError(f"Create migration failed in the bench:\n{response.text[:2000]}")

            created = sample_ms(create, n)
            panel = sample_ms(lambda: client.get("/panel/playground", headers=HTMX), n)
        return [
            Measurement(
                "panel_create_migration_http_ms",
                created,
                target="engine part <= 150 ms median (PRODUCT.md); p95 <= 1 s per action",
            ),
            Measurement("panel_fragment_ms", panel, target="p95 <= 1 s per action"),
        ]
    finally:
        sandboxes.stop()
        cluster.stop(wipe=True)
        shutil.rmtree(root, ignore_errors=True)
