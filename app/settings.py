"""Settings of the web app, read from `MIGRATION_LAB_*` environment variables.

Other packages append their settings classes to DOCUMENTED_SETTINGS so that one test keeps the README's
Settings table complete.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sandbox.config import SandboxSettings

# Values people paste from examples: never acceptable outside development.
INSECURE_SECRET_KEYS = {"changeme", "change-me", "secret", "dev", "development", "test", "insecure"}
MIN_SECRET_KEY_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MIGRATION_LAB_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Folder for everything the app writes.")
    host: str = Field(default="127.0.0.1", description="Interface `migration-lab serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `migration-lab serve` listens on.")
    lessons_dir: Path = Field(
        default=Path("lessons"), description="Course content folder (`NN-slug/lesson.md`)."
    )
    assets: Literal["auto", "cdn", "local"] = Field(
        default="auto",
        description="`auto`: the copies in `static/vendor/` when present, else jsDelivr; `cdn`: always "
        "jsDelivr with SRI hashes; `local`: always `static/vendor/`.",
    )
    secret_key: str = Field(
        default="",
        description="Key signing cookies. Empty: one is generated once and kept in `DATA_DIR/secret_key`.",
    )
    environment: Literal["development", "production"] = Field(
        default="development",
        description="`production` refuses a short or well-known `SECRET_KEY`.",
    )
    database_url: str = Field(
        default="",
        description="Database of the app's own state (learners, workspaces, their migrations). Empty: a "
        "SQLite file in `DATA_DIR`; or a PostgreSQL URL, e.g. postgresql://app:secret@db:5432/migration_lab.",
    )
    max_schema_bytes: int = Field(
        default=65536, ge=1024, description="Largest `schema.prisma` the sandbox accepts."
    )
    max_sql_bytes: int = Field(
        default=65536,
        ge=1024,
        description="Largest SQL text the SQL console (or an edited migration) accepts.",
    )
    max_result_rows: int = Field(
        default=200, ge=1, description="Rows the SQL console shows at most per query."
    )
    max_result_bytes: int = Field(
        default=1_000_000,
        ge=10_000,
        description="Characters of values the SQL console keeps per result; rows past it are read and "
        "dropped, and the note says so.",
    )
    workspaces_per_learner: int = Field(
        default=20,
        ge=1,
        description="Sandboxes one learner may create (the playground and one per lesson).",
    )


DOCUMENTED_SETTINGS: list[type[BaseSettings]] = [Settings]
DOCUMENTED_SETTINGS.append(SandboxSettings)


class InsecureSettingsError(ValueError):
    pass


def prepare(settings: Settings) -> Settings:
    """Create the data folder and settle the secret key; returns the settings the app runs with."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = settings.secret_key or _persisted_secret_key(settings.data_dir / "secret_key")
    weak = key.lower() in INSECURE_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH
    if weak and settings.environment == "production":
        raise InsecureSettingsError(
            f"MIGRATION_LAB_SECRET_KEY is too weak for production: use at least {MIN_SECRET_KEY_LENGTH} "
            "random characters (for example `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
            "or leave it empty to have one generated in the data folder."
        )
    return settings.model_copy(update={"secret_key": key})


def _persisted_secret_key(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # private from its first byte
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
