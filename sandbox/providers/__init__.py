"""Sandbox providers: where workspace databases live (`MIGRATION_LAB_SANDBOX`)."""

from __future__ import annotations

from pathlib import Path

from sandbox.config import SandboxSettings
from sandbox.providers.base import Provider, QuotaExceeded, SandboxError, SandboxFull, Server


def make_provider(settings: SandboxSettings, data_dir: Path) -> Provider:
    if settings.sandbox == "embedded":
        from sandbox.providers.embedded import EmbeddedProvider

        # Sized to the connection budget, plus PostgreSQL's 3 superuser slots.
        budget = settings.connection_limit * settings.max_workspaces + settings.reserved_connections
        return EmbeddedProvider.create(
            data_dir, pg_bin=settings.pg_bin, max_connections=budget + 3, workspaces=settings.max_workspaces
        )
    if settings.sandbox == "server":
        from sandbox.providers.server import ServerProvider

        return ServerProvider(settings.sandbox_url)
    from sandbox.providers.docker import DockerProvider

    return DockerProvider(settings.docker_image, settings.sandbox_prefix)


__all__ = ["Provider", "QuotaExceeded", "SandboxError", "SandboxFull", "Server", "make_provider"]
