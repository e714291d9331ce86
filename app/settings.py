"""The app's settings, read from `MIGRATION_LAB_*` environment variables once, when `Settings()` is built.

`Settings` is the one object `create_app` takes: the app's own fields (`AppSettings`), with the sandbox
library's and the instructor's settings nested (`settings.sandbox`, `settings.instructor`); each class
reads its own variables, so every variable keeps its flat name. DOCUMENTED_SETTINGS lists the classes
whose fields are variables: one test keeps the README's Settings table complete.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from app.instructor.settings import InstructorSettings, check_instructor_settings
from sandbox import SandboxSettings

# Values people paste from examples: never acceptable outside development.
INSECURE_SECRET_KEYS = {"changeme", "change-me", "secret", "dev", "development", "test", "insecure"}
MIN_SECRET_KEY_LENGTH = 32


class AppSettings(BaseSettings):
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
    worker_threads: int = Field(
        default=4,
        ge=2,
        le=200,
        description="Requests handled at once in the thread pool of each worker process (every handler "
        "touching a database or a file runs there). More threads only add waiting for Python's interpreter "
        "lock, during which the event loop (and `/healthz`) answers late: at 200 learners, 8 threads per "
        "worker cost a tenth more CPU per action than 4; the state database pool holds as many connections.",
    )
    workspaces_per_learner: int = Field(
        default=20,
        ge=1,
        description="Sandboxes one learner may create (the playground and one per lesson).",
    )


NESTED = ("sandbox", "instructor")


class _FlatEnvSource(EnvSettingsSource):
    """The nested settings read their own variables: `MIGRATION_LAB_SANDBOX` is the sandbox provider's
    kind, not a JSON dump of every sandbox setting."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name in NESTED:
            return None, field_name, False
        return super().get_field_value(field, field_name)


class Settings(AppSettings):
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings, description="The sandbox library's.")
    instructor: InstructorSettings = Field(
        default_factory=InstructorSettings, description="Access to `/instructor`."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _FlatEnvSource(settings_cls), dotenv_settings, file_secret_settings


DOCUMENTED_SETTINGS: list[type[BaseSettings]] = [AppSettings, SandboxSettings, InstructorSettings]


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
    check_instructor_settings(settings.instructor)  # refuse to start with a default password
    return settings.model_copy(update={"secret_key": key})


def _persisted_secret_key(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # private from its first byte
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
