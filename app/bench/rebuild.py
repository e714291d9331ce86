"""Suite `rebuild`: the wait a returning learner sees when the reaper (or a restart) dropped their
workspace: the panel's fragment through HTTP, which rebuilds the databases from the saved state, seed
rows included. One sample = drop the workspace (not timed), then load the panel (timed).

Measured for the playground (starter migration and rows, plus one migration deployed to staging) and
for the lesson-2 deploy exercise (dev, staging and prod copied from its seeded templates, 5000 users in
prod, two migrations replayed in staging); beside them the same fragment without a rebuild.
"""

from __future__ import annotations

import time

from app.bench.core import Measurement, sample_ms
from app.bench.harness import HTMX, learner_on_playground
from app.panel.starter import STARTER_SCHEMA

EXERCISE = "/lessons/02-creating-migrations/exercises/03-deploy-in-order"
EXERCISE_CONTEXT = "exercise-02-creating-migrations-03-deploy-in-order"
TARGET = "p95 <= 1 s per action (a short wait)"


def run(n: int) -> list[Measurement]:
    from app.db.workspaces import SavedWorkspace

    with learner_on_playground("rebuild") as learner:
        app, client, headers, sandboxes = learner.app, learner.client, learner.headers, learner.sandboxes
        schema = STARTER_SCHEMA.replace("  name  String?\n", "  name  String?\n  bio   String?\n")
        client.post("/panel/playground/migrations", data={"schema": schema, "name": "add bio"},
                    headers=headers)
        client.post("/panel/playground/envs/staging/deploy", headers=headers)
        client.get(EXERCISE).raise_for_status()  # prepares the exercise workspace from its templates
        client.post(f"/panel/{EXERCISE_CONTEXT}/envs/staging/deploy", headers=headers).raise_for_status()

        def sandbox_id(context: str) -> str:
            with app.state.services.state.session() as session:
                found = session.query(SavedWorkspace).filter_by(context=context).one().sandbox_id
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
