"""Settings of the defences against hostile or runaway clients (rate limits, fair share, result size)."""

from __future__ import annotations

from limits import parse_many
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class GuardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MIGRATION_LAB_", extra="ignore")

    rate_limit_storage: str = Field(
        default="auto",
        description="Where rate-limit counters and fair-share slots live. `auto`: `state` when the state "
        "database is PostgreSQL (replicas may share it) or `serve --workers N` runs several processes, "
        "else `memory://`. `memory://`: counted in each process. `state`: in the app's state database "
        "(SQLite file or PostgreSQL), so every worker and replica counts together. Another `limits` "
        "storage URL (e.g. `redis://host:6379`): counters there, slots shared through the state database.",
    )
    new_learners_per_client: str = Field(
        default="60/minute",
        description="New learner identities (requests without a valid learner cookie) one client address "
        "may start; over it: 429 with Retry-After.",
    )
    workspaces_per_client: str = Field(
        default="30/minute;300/hour",
        description="Sandboxes one client address may create; over it: 429 with Retry-After. A class "
        "behind one NAT address shares it: raise it for them.",
    )
    instructor_logins_per_client: str = Field(
        default="10/minute",
        description="Failed instructor sign-ins one client address may try; over it: 429 with Retry-After.",
    )
    actions_per_learner: int = Field(
        default=2,
        ge=1,
        description="Sandbox requests (panel, exercise pages and checks) one learner may have running at "
        "once; more wait up to `ACTION_WAIT_SECONDS`, then get a 429 message.",
    )
    actions_per_client: int = Field(
        default=16, ge=1, description="Sandbox requests one client address may have running at once."
    )
    action_wait_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a sandbox request over the concurrency limits waits for a free slot.",
    )

    @field_validator("new_learners_per_client", "workspaces_per_client", "instructor_logins_per_client")
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_many(value)  # refused at start-up with the library's message, not at the first request
        return value


def _document() -> None:
    from app.settings import DOCUMENTED_SETTINGS

    if GuardSettings not in DOCUMENTED_SETTINGS:
        DOCUMENTED_SETTINGS.append(GuardSettings)


_document()  # the README's Settings table must list these too (tests/app/test_settings_docs.py)
