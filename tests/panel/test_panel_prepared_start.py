"""A warm pool that prepares each workspace with the starter (what `migration-lab serve` does): a new
learner's first visit only claims one, and gets what a start done on the spot gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from panel_helpers import SCHEMA_WITH_BIO, Panel, states, text

from app.main import create_app
from app.panel import service
from app.panel.starter import prepare_start
from app.settings import Settings
from sandbox import SandboxSettings, Workspace
from sandbox.cluster import EmbeddedCluster
from sandbox.manager import SandboxManager


@pytest.fixture
def prepared_pool(pg_cluster: EmbeddedCluster) -> Iterator[SandboxManager]:
    manager = SandboxManager.over_cluster(pg_cluster, SandboxSettings(pool_size=1, sandbox_prefix="tprep"))
    manager.prepare_pooled = prepare_start
    manager.start(background=False)
    manager.fill_pool()
    yield manager
    for info in manager.list_workspaces():
        manager.drop_workspace(info.id)
    manager.stop()


@pytest.fixture
def settings(tmp_path: Path, repo_root: Path, state_database_url: str) -> Settings:
    return Settings(
        lessons_dir=repo_root / "lessons", data_dir=tmp_path / "data", assets="local",
        database_url=state_database_url,
    )  # fmt: skip


def test_a_first_visit_on_a_prepared_workspace_shows_the_starter_everywhere_without_migrating(
    prepared_pool: SandboxManager, settings: Settings, monkeypatch
) -> None:
    started = []
    monkeypatch.setattr(service, "apply_start", lambda *args: started.append(args))
    with TestClient(create_app(settings, sandboxes=prepared_pool)) as client:
        panel = Panel(client)
        page = panel.first_page
        assert started == []  # claimed ready: nothing migrated during the visit
        assert states(page, "_init") == {"dev": "✓ applied", "staging": "✓ applied", "prod": "✓ applied"}
        for env in ("dev", "staging", "prod"):
            card = text(page.select_one(f"#env-{env}"))
            assert "in sync" in card and "up to date" in card and "User 3" in card, (env, card)
        # The learner's history holds the migration the pool applied: the next change builds on it.
        created = panel.create(SCHEMA_WITH_BIO, "add bio")
        assert "Created and applied" in text(created.select_one("#panel-migration"))
        assert "+ column" not in text(created.select_one("#env-dev"))


def test_a_first_visit_on_a_prepared_workspace_reads_none_of_its_databases(
    prepared_pool: SandboxManager, settings: Settings, monkeypatch
) -> None:
    """The pool's label says what each environment held once prepared: the first view shows that (no
    session opened on the databases), and what happens to them afterwards shows as ever."""
    sessions: list[str] = []
    for way in ("observing", "reading"):
        real = getattr(Workspace, way)
        spy = lambda self, env, real=real: sessions.append(env) or real(self, env)  # noqa: E731
        monkeypatch.setattr(Workspace, way, spy)
    with TestClient(create_app(settings, sandboxes=prepared_pool)) as client:
        panel = Panel(client)
        assert sessions == []
        page = panel.first_page
        assert states(page, "_init") == {"dev": "✓ applied", "staging": "✓ applied", "prod": "✓ applied"}
        for env in ("dev", "staging", "prod"):
            card = text(page.select_one(f"#env-{env}"))
            assert "in sync" in card and "up to date" in card and "User 3" in card, (env, card)
        url = text(page.select_one("#env-prod .env-url code"))
        with psycopg.connect(url, autocommit=True) as conn:  # the learner's own psql
            conn.execute('ALTER TABLE "User" ADD COLUMN hotfix TEXT')
        after = Panel._ok(panel.get())
        assert [text(li) for li in after.select("#env-prod .drift li")] == ["+ column hotfix on User"]
        # prod read again; its drift found by a replay on the shadow unless this process has that replay
        assert sessions in (["prod"], ["prod", "shadow"])
