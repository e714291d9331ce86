"""The terminal's command language, parsed with shlex."""

from __future__ import annotations

import pytest

from app.panel.command_line import CommandError, env_of, parse

URLS = {
    "dev": "postgresql://r:p@127.0.0.1:5432/mlab_x_dev",
    "staging": "postgresql://r:p@127.0.0.1:5432/mlab_x_staging",
    "prod": "postgresql://r:p@127.0.0.1:5432/mlab_x_prod",
}


def test_prisma_commands_with_any_launcher() -> None:
    for line in (
        "npx prisma migrate dev --name add_email",
        "prisma migrate dev --name=add_email",
        "migrate dev --name 'add_email'",
    ):
        command = parse(line)
        assert command.kind == "prisma"
        assert command.args[:2] == ["migrate", "dev"]
        assert command.option("--name") == "add_email"
    assert parse("npx prisma migrate dev --create-only").flag("--create-only")
    assert parse("npx prisma migrate resolve --rolled-back 2024_x").option("--rolled-back") == "2024_x"
    assert parse("npx prisma db seed").args == ["db", "seed"]


def test_database_url_from_export_or_prefix() -> None:
    exported = parse(f"export DATABASE_URL={URLS['staging']}")
    assert exported.kind == "export" and exported.database_url == URLS["staging"]
    quoted = parse(f'export DATABASE_URL="{URLS["prod"]}"')
    assert quoted.database_url == URLS["prod"]
    once = parse(f"DATABASE_URL={URLS['prod']} npx prisma migrate status")
    assert once.kind == "prisma" and once.database_url == URLS["prod"]
    assert env_of(once.database_url, URLS) == "prod"
    assert env_of("postgresql://other:x@host:1/mlab_x_staging", URLS) == "staging"
    assert env_of("postgresql://r:p@127.0.0.1:5432/elsewhere", URLS) is None


def test_help_and_empty() -> None:
    assert parse("help").kind == "help"
    assert parse("npx prisma").kind == "help"
    assert parse("npx prisma migrate --help").kind == "help"
    assert parse("   ").kind == "empty"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ls -la", "Unknown command"),
        ("rm -rf /", "Unknown command"),
        ("echo 'unclosed", "Could not read"),
        ("PGPASSWORD=x npx prisma migrate status", "Only DATABASE_URL"),
        ("export PATH=/tmp", "export DATABASE_URL"),
    ],
)
def test_what_is_not_understood_says_why(line: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        parse(line)
