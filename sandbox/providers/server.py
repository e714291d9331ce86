"""The server provider: an existing PostgreSQL given by an admin URL (docker-compose, several machines)."""

from __future__ import annotations

import psycopg
from psycopg.conninfo import conninfo_to_dict

from sandbox.providers.base import SandboxError, Server


class ServerProvider:
    name = "server"
    shared = True

    def __init__(self, url: str | None) -> None:
        if not url:
            raise SandboxError(
                "MIGRATION_LAB_SANDBOX=server needs MIGRATION_LAB_SANDBOX_URL, the URL of a role that can "
                "create roles and databases, e.g. postgresql://admin:secret@db:5432/postgres."
            )
        try:
            params = {k: v for k, v in conninfo_to_dict(url).items() if v is not None}
        except Exception as exc:  # psycopg raises ProgrammingError with the parser's message
            raise SandboxError(f"MIGRATION_LAB_SANDBOX_URL is not a valid PostgreSQL URL: {exc}") from exc
        admin_db = str(params.pop("dbname", "postgres"))
        host = str(params.get("host", "localhost"))
        port = int(str(params.get("port", 5432)))
        self._server = Server(
            admin=params, admin_db=admin_db, app_host=host, app_port=port, public_host=host, public_port=port
        )

    def start(self) -> None:
        """Connect once now, so that a wrong URL or a server that is down fails at startup."""
        server = self._server
        try:
            psycopg.connect(server.admin_conninfo(), connect_timeout=10).close()
        except psycopg.OperationalError as exc:
            raise SandboxError(
                f"Cannot reach the sandbox server {server.app_host}:{server.app_port} given by "
                f"MIGRATION_LAB_SANDBOX_URL: {str(exc).strip()}"
            ) from exc

    def stop(self) -> None:
        self._server.close()

    def server_for(self, workspace_id: str, create: bool) -> Server:
        return self._server

    def release(self, workspace_id: str) -> None:
        """Workspaces share the server: nothing to give back."""

    def stray_workspaces(self, known: set[str]) -> list[str]:
        return []
