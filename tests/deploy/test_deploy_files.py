"""What docker-compose.yml and the Dockerfile promise, checked without Docker (test_compose.py runs them for
real where an engine answers)."""

from __future__ import annotations

from pathlib import Path

import yaml

from app.settings import DOCUMENTED_SETTINGS
from sandbox.providers.server import split_urls

SETTINGS = {f"MIGRATION_LAB_{n.upper()}" for cls in DOCUMENTED_SETTINGS for n in cls.model_fields}


def test_compose_runs_replicas_behind_a_proxy_on_postgres_services(repo_root: Path) -> None:
    services = yaml.safe_load((repo_root / "docker-compose.yml").read_text())["services"]
    apps = [services["app-1"], services["app-2"]]
    for name in ("state", "sandbox-1", "sandbox-2"):
        assert "pg_isready" in " ".join(services[name]["healthcheck"]["test"])
    for app in apps:
        env = app["environment"]
        assert env["MIGRATION_LAB_SANDBOX"] == "server"
        hosts = [url.split("@")[1].split("/")[0] for url in split_urls(env["MIGRATION_LAB_SANDBOX_URL"])]
        assert hosts == ["sandbox-1:5432", "sandbox-2:5432"]
        assert "@state:5432/" in env["MIGRATION_LAB_DATABASE_URL"]
        assert set(env) <= SETTINGS
        assert all(app["depends_on"][s]["condition"] == "service_healthy" for s in ("state", "sandbox-1"))
        assert "/healthz" in " ".join(app["healthcheck"]["test"])
    proxy = services["proxy"]
    assert proxy["ports"] == ["127.0.0.1:${PORT:-8000}:80"]
    assert {"app-1", "app-2"} <= set(proxy["depends_on"])
    upstream = (repo_root / "deploy" / "proxy" / "nginx.conf").read_text()
    assert "server app-1:8000" in upstream and "server app-2:8000" in upstream


def test_dockerfile_serves_the_app_as_an_unprivileged_user(repo_root: Path) -> None:
    dockerfile = (repo_root / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}" in dockerfile
    assert "\nUSER 10001\n" in dockerfile
    assert 'CMD ["migration-lab", "serve"]' in dockerfile
    for folder in ("app", "sandbox", "templates", "static", "lessons"):
        assert f"COPY {folder} ./{folder}" in dockerfile
        assert (repo_root / folder).is_dir()
