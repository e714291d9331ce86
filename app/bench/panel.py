"""Suite `panel`: Create migration through HTTP, as the browser sends it (CSRF, htmx headers), on a
real workspace; one sample = parse, shadow replay, diff, render, apply to dev, save the state, and
render the migration, history and environment partials. Also the panel's own fragment (a page load).

Each sample adds one column, so the history grows by one migration per sample, as a learner's does.
"""

from __future__ import annotations

from app.bench.core import Measurement, sample_ms
from app.bench.harness import HTMX, learner_on_playground
from app.panel.starter import STARTER_SCHEMA


def run(n: int) -> list[Measurement]:
    with learner_on_playground("panel") as learner:
        client, headers = learner.client, learner.headers
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
