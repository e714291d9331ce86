"""Suite `rebuild`: the wait a returning learner sees when the reaper (or a restart) dropped their
workspace: the panel's fragment through HTTP, which rebuilds the databases from the saved state, seed
rows included. One sample = drop the workspace (not timed), then load the panel (timed).

Measured for the playground (starter migration and rows, plus one migration deployed to staging) and
for the lesson-2 deploy exercise (dev, staging and prod copied from its seeded templates, 5000 users in
prod, two migrations replayed in staging); beside them the same fragment without a rebuild.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

from app.bench.core import Measurement, sample_ms
from app.panel.starter import STARTER_SCHEMA

HTMX = {"HX-Request": "true"}
EXERCISE = "/lessons/02-creating-migrations/exercises/03-deploy-in-order"
EXERCISE_CONTEXT = "exercise-02-creating-migrations-03-deploy-in-order"
TARGET = "p95 <= 1 s per action (a short wait)"


def run(n: int) -> list[Measurement]:
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings
    from app.state.workspaces import Workspace
    from sandbox.cluster import EmbeddedCluster
    from sandbox.config import SandboxSettings
    from sandbox.manager import SandboxManager

    root = Path(tempfile.mkdtemp(prefix="migration-lab-bench-rebuild-"))
    cluster = EmbeddedCluster.create(root, name="bench-rebuild")
    cluster.start()
    sandboxes = SandboxManager.over_cluster(cluster, SandboxSettings(pool_size=0, sandbox_prefix="brebuild"))
    sandboxes.start(background=False)
    try:
        app = create_app(Settings(data_dir=root / "data", assets="local"))
        app.state.sandboxes = sandboxes
        with TestClient(app) as client:
            page = client.get("/playground")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            headers = {**HTMX, "X-CSRF-Token": token}
            schema = STARTER_SCHEMA.replace("  name  String?\n", "  name  String?\n  bio   String?\n")
            client.post("/panel/playground/migrations", data={"schema": schema, "name": "add bio"},
                        headers=headers)
            client.post("/panel/playground/envs/staging/deploy", headers=headers)
            client.get(EXERCISE).raise_for_status()  # prepares the exercise workspace from its templates
            client.post(f"/panel/{EXERCISE_CONTEXT}/envs/staging/deploy", headers=headers).raise_for_status()

            def sandbox_id(context: str) -> str:
                with app.state.db.session() as session:
                    found = session.query(Workspace).filter_by(context=context).one().sandbox_id
                    assert found
                    return found

            def rebuilt_panel(context: str) -> list[float]:
                samples = []
                for _ in range(n):
                    sandboxes.drop_workspace(sandbox_id(context))
                    start = time.perf_counter()
                    response = client.get(f"/panel/{context}", headers=HTMX)
                    samples.append((time.perf_counter() - start) * 1000)
                    if "example rows are back" not in response.text:
                        raise RuntimeError(f"the rebuild lost its seed rows:\n{response.text[:2000]}")
                return samples

            playground = rebuilt_panel("playground")
            exercise = rebuilt_panel(EXERCISE_CONTEXT)
            plain = sample_ms(lambda: client.get(f"/panel/{EXERCISE_CONTEXT}", headers=HTMX), n)
        return [
            Measurement("rebuild_playground_panel_ms", playground, target=TARGET),
            Measurement("rebuild_exercise_panel_ms", exercise, target=TARGET),
            Measurement("exercise_panel_no_rebuild_ms", plain, target="for comparison"),
        ]
    finally:
        sandboxes.stop()
        cluster.stop(wipe=True)
        shutil.rmtree(root, ignore_errors=True)
