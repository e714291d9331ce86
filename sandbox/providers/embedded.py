"""The embedded provider: a PostgreSQL cluster that this process starts, owns and stops."""

from __future__ import annotations

from pathlib import Path

import psycopg

from sandbox.cluster import EmbeddedCluster, shared_buffers_for
from sandbox.providers.base import Server


class EmbeddedProvider:
    name = "embedded"
    shared = True

    def __init__(self, cluster: EmbeddedCluster, owns_cluster: bool = True) -> None:
        self.cluster = cluster
        self.owns_cluster = owns_cluster
        self._server: Server | None = None

    @classmethod
    def create(
        cls,
        data_dir: Path,
        pg_bin: str | None = None,
        max_connections: int | None = None,
        workspaces: int | None = None,
    ) -> EmbeddedProvider:
        cluster = EmbeddedCluster.create(data_dir, name="sandbox", pg_bin=pg_bin)
        if max_connections is not None:
            cluster.max_connections = max_connections
        if workspaces is not None:
            cluster.shared_buffers_mb = shared_buffers_for(workspaces)
        return cls(cluster)

    @classmethod
    def over(cls, cluster: EmbeddedCluster) -> EmbeddedProvider:
        """Use a cluster someone else started and will stop (the test session's, for instance)."""
        return cls(cluster, owns_cluster=False)

    @property
    def data_path(self) -> Path:
        """Where the databases' files live (free space is measured there)."""
        return self.cluster.root

    @property
    def can_restart(self) -> bool:
        return self.owns_cluster

    def alive(self) -> bool:
        return self.cluster.postmaster_alive()

    def restart(self) -> None:
        """After the cluster died: a fresh one in its place (its databases are rebuilt on demand)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        self.cluster.restart()
        self._open()

    def start(self) -> None:
        if self.owns_cluster:
            self.cluster.start()
        self._open()

    def _open(self) -> None:
        # Workspace roles have no business in the admin database (it holds the registry) nor in
        # template1 (a session there would block CREATE DATABASE for everyone).
        with psycopg.connect(self.cluster.admin_conninfo(), autocommit=True) as conn:
            conn.execute("REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1 FROM PUBLIC")
        socket_dir = str(self.cluster.socket_dir)
        self._server = Server(
            admin={"host": socket_dir, "port": self.cluster.port, "user": self.cluster.superuser},
            admin_db="postgres",
            app_host=socket_dir,
            app_port=self.cluster.port,
            public_host="127.0.0.1",
            public_port=self.cluster.port,
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self.owns_cluster:
            self.cluster.stop(wipe=True)

    def server_for(self, workspace_id: str, create: bool) -> Server:
        if self._server is None:
            raise RuntimeError("the embedded provider is not started")
        return self._server

    def release(self, workspace_id: str) -> None:
        """Workspaces share the cluster: nothing to give back."""

    def stray_workspaces(self, known: set[str]) -> list[str]:
        return []
