"""Instructor access: off unless asked for, and never with an empty or well-known password."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PASSWORDS = {"", "admin", "password", "instructor", "changeme", "change-me", "secret", "teacher"}
MIN_PASSWORD_LENGTH = 12


class InstructorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MIGRATION_LAB_", extra="ignore")

    instructor_access: bool = Field(
        False, description="Serve `/instructor` (class statistics, content problems, CSV export)."
    )
    instructor_password: str = Field(
        "",
        description="Password of `/instructor` (HTTP Basic, any user name). Required, at least "
        f"{MIN_PASSWORD_LENGTH} characters and not a well-known one, when `INSTRUCTOR_ACCESS` is on.",
    )


class InstructorPasswordError(ValueError):
    pass


def check_instructor_settings(settings: InstructorSettings) -> None:
    """Refuse to start with instructor access on and a default, empty or short password."""
    if not settings.instructor_access:
        return
    password = settings.instructor_password
    if password.strip().lower() in DEFAULT_PASSWORDS or len(password) < MIN_PASSWORD_LENGTH:
        raise InstructorPasswordError(
            "MIGRATION_LAB_INSTRUCTOR_ACCESS is on but MIGRATION_LAB_INSTRUCTOR_PASSWORD is empty, a "
            f"default, or shorter than {MIN_PASSWORD_LENGTH} characters: set a real password, or turn "
            "instructor access off."
        )


def _document() -> None:
    from app.settings import DOCUMENTED_SETTINGS

    if InstructorSettings not in DOCUMENTED_SETTINGS:
        DOCUMENTED_SETTINGS.append(InstructorSettings)


_document()  # the README's Settings table must list these too (tests/app/test_settings_docs.py)
