"""The docker provider: one PostgreSQL container per workspace, through testcontainers.

Containers belong to this process (testcontainers' reaper removes them when it exits), so the registry of
workspaces is kept in memory and a restart rebuilds workspaces through `ensure_workspace`.
Template databases are not offered here: a template would have to live in every container.
"""

from __future__ import annotations

import secrets
import threading

from sandbox.providers.base import SandboxError, Server

LABEL_PREFIX = "migration-lab.prefix"
LABEL_WORKSPACE = "migration-lab.workspace"
# The same throwaway settings as the embedded cluster; data on tmpfs inside the container.
POSTGRES_COMMAND = "postgres -c fsync=off -c synchronous_commit=off -c full_page_writes=off"


class DockerProvider:
    name = "docker"
    shared = False

    def __init__(self, image: str, prefix: str) -> None:
        self.image = image
        self.prefix = prefix
        self._containers: dict[str, tuple[object, Server]] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        try:
            import docker

            docker.from_env().ping()
        except Exception as exc:  # docker raises DockerException, requests errors or FileNotFoundError
            raise SandboxError(
                f"MIGRATION_LAB_SANDBOX=docker needs a Docker engine, and none answers ({exc}). "
                "Start Docker, or use MIGRATION_LAB_SANDBOX=embedded."
            ) from exc

    def stop(self) -> None:
        with self._lock:
            held = list(self._containers)
        for workspace_id in held:
            self.release(workspace_id)

    def server_for(self, workspace_id: str, create: bool) -> Server | None:
        with self._lock:
            if workspace_id in self._containers:
                return self._containers[workspace_id][1]
        if not create:
            return None
        try:
            from testcontainers.community.postgres import PostgresContainer
        except ImportError as exc:  # an optional extra: most deployments never start containers
            raise SandboxError(
                "The docker sandbox provider needs testcontainers: pip install 'migration-lab[docker]'."
            ) from exc

        password = secrets.token_urlsafe(18)
        container = (
            PostgresContainer(
                self.image, username="postgres", password=password, dbname="postgres", driver=None
            )
            .with_command(POSTGRES_COMMAND)
            .with_tmpfs_mount("/var/lib/postgresql/data")
            .with_kwargs(labels={LABEL_PREFIX: self.prefix, LABEL_WORKSPACE: workspace_id})
        )
        container.start()
        host = container.get_container_host_ip()
        port = int(container.get_exposed_port(5432))
        server = Server(
            admin={"host": host, "port": port, "user": "postgres", "password": password},
            admin_db="postgres",
            app_host=host,
            app_port=port,
            public_host=host,
            public_port=port,
        )
        with self._lock:
            self._containers[workspace_id] = (container, server)
        return server

    def release(self, workspace_id: str) -> None:
        with self._lock:
            held = self._containers.pop(workspace_id, None)
        if held is not None:
            container, server = held
            server.close()
            container.stop()  # type: ignore[attr-defined]

    def stray_workspaces(self, known: set[str]) -> list[str]:
        """Stop containers of this prefix left by another run whose reaper did not remove them."""
        import docker

        client = docker.from_env()
        removed = []
        for container in client.containers.list(all=True, filters={"label": f"{LABEL_PREFIX}={self.prefix}"}):
            workspace_id = container.labels.get(LABEL_WORKSPACE, "")
            with self._lock:
                ours = workspace_id in self._containers
            if not ours and workspace_id not in known:
                container.remove(force=True)
                removed.append(workspace_id)
        return removed
