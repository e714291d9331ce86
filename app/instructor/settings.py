"""Instructor access: off unless asked for, and never with an empty or well-known password."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PASSWORDS = {"", "admin", "password", "instructor", "changeme", "change-me", "secret", "teacher"}
MIN_PASSWORD_LENGTH = 12
MIN_DISTINCT_CHARACTERS = 6  # `aaaaaaaaaaaaaaaa`, `abcabcabcabc`: long but guessed at once
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt")
TRAILING_NOISE = re.compile(r"[\d\W_]+$")


class InstructorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MIGRATION_LAB_", extra="ignore")

    instructor_access: bool = Field(
        default=False, description="Serve `/instructor` (class statistics, content problems, CSV export)."
    )
    instructor_password: str = Field(
        default="",
        description="Password of `/instructor` (HTTP Basic, any user name). Required, at least "
        f"{MIN_PASSWORD_LENGTH} characters and not a well-known one, when `INSTRUCTOR_ACCESS` is on.",
    )


class InstructorPasswordError(ValueError):
    pass


def check_instructor_settings(settings: InstructorSettings) -> None:
    """Refuse to start with instructor access on and a default, empty or short password."""
    if not settings.instructor_access:
        return
    if problem := password_problem(settings.instructor_password):
        raise InstructorPasswordError(
            f"MIGRATION_LAB_INSTRUCTOR_ACCESS is on but MIGRATION_LAB_INSTRUCTOR_PASSWORD {problem}: set a "
            f"real password (at least {MIN_PASSWORD_LENGTH} characters, {MIN_DISTINCT_CHARACTERS} different "
            "ones, not a common password), or turn instructor access off."
        )


def password_problem(password: str) -> str:
    """What makes `password` guessable, or '' when nothing does."""
    if password.strip().lower() in DEFAULT_PASSWORDS:
        return "is empty or a default"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"is shorter than {MIN_PASSWORD_LENGTH} characters"
    if len(set(password.lower())) < MIN_DISTINCT_CHARACTERS:
        return f"has fewer than {MIN_DISTINCT_CHARACTERS} different characters"
    lowered = password.strip().lower()
    if lowered in common_passwords() or TRAILING_NOISE.sub("", lowered) in common_passwords() | {""}:
        return "is in the list of common passwords"
    return ""


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text().splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))

