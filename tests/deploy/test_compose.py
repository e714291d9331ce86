"""`docker compose up` for real: two app replicas behind the proxy, a state PostgreSQL and two sandbox
servers. A learner opens a lesson and creates migrations through the proxy; both replicas serve them, both
sandbox servers get workspaces, and `down` leaves no container, network or volume behind.

Runs where a Docker engine answers (`.ci/run` starts one when it can). Where the official images cannot be
pulled, the locally built stand-ins are used (`../shared/tools/docker-offline`, see README "Hosting a class").
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "panel"))
from panel_helpers import Panel  # noqa: E402  # the panel tests' browser, over real HTTP here

from sandbox.cluster import free_port

REPO = Path(__file__).resolve().parents[2]
SCHEMA = """\
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id    Int     @id @default(autoincrement())
  email String  @unique
  name  String?
%s}
"""


def engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def compose_command() -> list[str] | None:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def has_image(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True).returncode == 0


def local_images() -> dict[str, str]:
    """Official images where the engine has them, else the local stand-ins (built here if needed)."""
    env = {}
    if not has_image("python:3.11-slim") and has_image("mlab-local/python:3.11"):
        env["PYTHON_IMAGE"] = "mlab-local/python:3.11"
    if not has_image("postgres:17-alpine") and has_image("mlab-local/postgres:15"):
        env["POSTGRES_IMAGE"] = "mlab-local/postgres:15"
    if not has_image("nginx:1.27-alpine") and has_image("mlab-local/debian:bookworm"):
        subprocess.run(
            ["docker", "build", "-q", "-t", "mlab-local/nginx", "--build-arg",
             "BASE_IMAGE=mlab-local/debian:bookworm", str(REPO / "deploy" / "proxy")],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        env["PROXY_IMAGE"] = "mlab-local/nginx"
    return env


COMPOSE = compose_command()
pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(not engine_answers(), reason="no Docker engine answers on this machine"),
    pytest.mark.skipif(COMPOSE is None, reason="neither `docker compose` nor docker-compose is installed"),
]


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[str, dict[str, str], list[str]]]:
    assert COMPOSE is not None
    project = f"mlabtest{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {**os.environ, **local_images(), "PORT": str(port), "APP_IMAGE": f"{project}-app:latest"}
    env["MIGRATION_LAB_SECRET_KEY"] = uuid.uuid4().hex * 2
    env["MIGRATION_LAB_SANDBOX_SECRET"] = uuid.uuid4().hex
    # The image installs from a wheelhouse of this checkout's dependencies: no index needed inside the build.
    wheel = [sys.executable, "-m", "pip", "wheel", "-q", "-w", str(REPO / "wheels"), str(REPO)]
    subprocess.run([*wheel, "setuptools", "wheel"], check=True, capture_output=True, timeout=900)
    command = [*COMPOSE, "-p", project, "-f", str(REPO / "docker-compose.yml")]
    try:
        up = subprocess.run(
            [*command, "up", "-d", "--build"], env=env, cwd=REPO, capture_output=True, text=True, timeout=1200
        )
        if up.returncode != 0:
            app_logs = "".join(logs(command, env, s)[-3000:] for s in ("app-1", "app-2"))
            raise AssertionError(f"compose up failed:\n{up.stderr[-2000:]}\napp logs:\n{app_logs}")
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=3).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the proxy never answered /healthz"
            time.sleep(1)
        yield base, env, command
    finally:
        subprocess.run([*command, "down", "-v", "--remove-orphans", "--rmi", "local"], env=env, cwd=REPO,
                       capture_output=True, timeout=300)  # fmt: skip
        subprocess.run(["docker", "rmi", "-f", env["APP_IMAGE"]], capture_output=True, timeout=120)
        shutil.rmtree(REPO / "build", ignore_errors=True)
        for wheel in (REPO / "wheels").glob("*.whl"):
            wheel.unlink()


def logs(command: list[str], env: dict[str, str], service: str) -> str:
    out = subprocess.run([*command, "logs", "--no-color", service], env=env, cwd=REPO, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    return out.stdout + out.stderr


def sql_on(command: list[str], env: dict[str, str], service: str, query: str) -> str:
    out = subprocess.run([*command, "exec", "-T", service, "psql", "-U", "postgres", "-Atc", query], env=env,
                         cwd=REPO, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_learners_are_served_by_every_replica_on_every_sandbox_server(
    stack: tuple[str, dict[str, str], list[str]],
) -> None:
    base, env, command = stack
    learners = []
    for i in range(4):  # nginx takes the replicas in turn: four learners reach both
        with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as client:
            lesson = client.get("/lessons/01-migration-concepts")
            assert lesson.status_code == 200 and "Migration" in lesson.text
            panel = Panel(client)  # type: ignore[arg-type]  # httpx.Client speaks the TestClient's API
            page = panel.create(SCHEMA % f"  field{i} String?\n", f"add_field_{i}")
            assert f"add_field_{i}" in page.get_text(" ")
            learners.append(panel)
    for replica in ("app-1", "app-2"):
        served = re.findall(
            r'"POST /panel/playground/migrations HTTP/1\.[01]" 200', logs(command, env, replica)
        )
        assert served, f"{replica} created no migration"
    counts = [
        int(sql_on(command, env, s, "SELECT count(*) FROM pg_database WHERE datname LIKE 'mlab\\_%\\_dev'"))
        for s in ("sandbox-1", "sandbox-2")
    ]
    assert all(count >= 1 for count in counts), counts


def test_down_leaves_nothing_behind(stack: tuple[str, dict[str, str], list[str]]) -> None:
    _, env, command = stack
    project = command[command.index("-p") + 1]
    down_all = [*command, "down", "-v", "--remove-orphans"]
    down = subprocess.run(down_all, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert down.returncode == 0, down.stderr
    label = f"label=com.docker.compose.project={project}"
    for kind in (["ps", "-a"], ["network", "ls"], ["volume", "ls"]):
        listed = subprocess.run(["docker", *kind, "-q", "--filter", label], capture_output=True, text=True)
        assert listed.stdout.strip() == "", f"docker {' '.join(kind)} still lists {listed.stdout}"
