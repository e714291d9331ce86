"""docker-compose.yml and the Dockerfile cannot be run here (no Docker engine): check what they promise."""

from __future__ import annotations

from pathlib import Path

import yaml

from sandbox import SandboxSettings


def test_compose_runs_the_app_on_the_server_provider_with_a_healthy_postgres(repo_root: Path) -> None:
    compose = yaml.safe_load((repo_root / "docker-compose.yml").read_text())
    postgres, app = compose["services"]["postgres"], compose["services"]["app"]
    assert postgres["image"].startswith("postgres:") and "alpine" in postgres["image"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    env = app["environment"]
    assert env["MIGRATION_LAB_SANDBOX"] == "server"
    assert "@postgres:5432/" in env["MIGRATION_LAB_SANDBOX_URL"]
    assert env["MIGRATION_LAB_DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in env["MIGRATION_LAB_DATABASE_URL"]
    assert app["build"] == "."
    # Every MIGRATION_LAB_ variable the compose file sets is a real setting of the sandbox or the app.
    fields = {f"MIGRATION_LAB_{name.upper()}" for name in SandboxSettings.model_fields}
    from app.settings import DOCUMENTED_SETTINGS

    fields |= {f"MIGRATION_LAB_{n.upper()}" for cls in DOCUMENTED_SETTINGS for n in cls.model_fields}
    assert set(env) <= fields


def test_dockerfile_serves_the_app_as_an_unprivileged_user(repo_root: Path) -> None:
    dockerfile = (repo_root / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "\nFROM python:3.11" in dockerfile
    assert "\nUSER app\n" in dockerfile
    assert 'CMD ["migration-lab", "serve"]' in dockerfile
    for folder in ("app", "sandbox", "templates", "static", "lessons"):
        assert f"COPY {folder} ./{folder}" in dockerfile
        assert (repo_root / folder).is_dir()
