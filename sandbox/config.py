"""Settings of the sandbox library, read from `MIGRATION_LAB_*` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MIGRATION_LAB_", extra="ignore")

    sandbox: Literal["embedded", "server", "docker"] = Field(
        default="embedded",
        description="Where throwaway databases live: `embedded` (a cluster the app starts), "
        "`server` (an existing PostgreSQL at MIGRATION_LAB_SANDBOX_URL) or `docker` "
        "(a container per workspace).",
    )
    pg_bin: str | None = Field(
        default=None,
        description="Folder holding initdb and pg_ctl for the embedded cluster; default: the machine's "
        "PostgreSQL, else the pgserver wheel.",
    )
    sandbox_url: str | None = Field(
        default=None,
        description="Admin URL of the PostgreSQL server for the `server` provider, e.g. "
        "postgresql://admin:secret@db:5432/postgres (a role that can create roles and databases).",
    )
    docker_image: str = Field(
        default="postgres:17-alpine", description="Image of the `docker` provider's per-workspace containers."
    )
    sandbox_prefix: str = Field(
        default="mlab",
        pattern=r"^[a-z][a-z0-9]{0,15}$",
        description="Prefix of every role and database the sandbox creates, so that orphans can be found "
        "and several deployments can share one server.",
    )
    sandbox_secret: str | None = Field(
        default=None,
        description="Secret from which workspace passwords are derived (stable across restarts); default: "
        "generated once and kept in the data dir. Set the same value on every machine sharing a server.",
    )
    pool_size: int = Field(
        default=8, ge=0, description="Ready workspaces kept warm and refilled in the background."
    )
    workspace_ttl_seconds: int = Field(
        default=7200,
        ge=60,
        description="Databases of a workspace idle for longer are dropped; the app rebuilds them on return.",
    )
    reaper_interval_seconds: float = Field(
        default=60, gt=0, description="How often idle workspaces and orphans are looked for."
    )
    statement_timeout_ms: int = Field(
        default=5000,
        ge=100,
        description="statement_timeout of workspace roles; the watchdog also cancels "
        "queries running over twice this, even if a learner raised it.",
    )
    lock_timeout_ms: int = Field(default=2000, ge=100, description="lock_timeout of workspace roles.")
    idle_in_transaction_timeout_ms: int = Field(
        default=30000, ge=1000, description="idle_in_transaction_session_timeout of workspace roles."
    )
    temp_file_limit_kb: int = Field(
        default=65536,
        ge=1024,
        description="temp_file_limit of workspace roles (kB of temporary files per session).",
    )
    work_mem_kb: int = Field(default=4096, ge=64, description="work_mem of workspace roles (kB).")
    connection_limit: int = Field(
        default=10,
        ge=2,
        description="Connections one workspace role may hold at once, over all its databases.",
    )
    max_workspaces: int = Field(
        default=100,
        ge=1,
        description="Workspaces the sandbox holds at most (warm pool included); a new one over it is "
        "refused with a message. With CONNECTION_LIMIT it sizes the connection budget.",
    )
    reserved_connections: int = Field(
        default=20,
        ge=5,
        description="Connections of the sandbox server kept for the app itself (admin, grading, the "
        "watchdog): CONNECTION_LIMIT x MAX_WORKSPACES + this must fit under max_connections, checked "
        "at start-up (the embedded cluster is sized to fit).",
    )
    workspace_quota_mb: int = Field(
        default=64,
        ge=1,
        description="Data one workspace may hold over all its databases (MiB beyond empty databases); "
        "over it the watchdog cancels its queries and the panel refuses SQL, migrations and deploys "
        "until an environment is reset.",
    )
    min_free_mb: int = Field(
        default=256,
        ge=0,
        description="Free space the sandbox's filesystem keeps (MiB; embedded cluster): below it new "
        "workspaces are refused with a message.",
    )
