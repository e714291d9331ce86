"""The terminal's language: the Prisma commands a learner types, parsed with shlex into a `Command`.

Only parsing lives here; the service runs a command against the workspace.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from urllib.parse import urlsplit

HELP = """Commands (the environment is chosen by DATABASE_URL, dev's by default):

  npx prisma migrate dev --name <name> [--create-only]   create a migration, apply it to dev
  npx prisma migrate deploy                              apply pending migrations (staging, prod)
  npx prisma migrate status                              what is applied, pending or failed
  npx prisma migrate reset [--force]                     drop the database and re-apply every migration
  npx prisma migrate resolve --applied <migration>       mark a failed migration as applied (after a hotfix)
  npx prisma migrate resolve --rolled-back <migration>   mark a failed migration as rolled back
  npx prisma migrate diff --from-<source> --to-<source> [--script]
        sources: empty, migrations, schema-datamodel, url <DATABASE_URL>
  npx prisma db seed                                     insert a few example rows in every empty table
  export DATABASE_URL=<url>                              choose the environment (URLs are on the cards)
  DATABASE_URL=<url> npx prisma …                        choose it for one command
  help                                                   this text"""

PRISMA_LAUNCHERS = (("npx", "prisma"), ("pnpm", "prisma"), ("yarn", "prisma"), ("prisma",))


class CommandError(ValueError):
    """The line could not be understood; the message says what was expected."""


@dataclass
class Command:
    kind: str  # "empty", "help", "export", "prisma"
    args: list[str] = field(default_factory=list)  # for "prisma": what follows `npx prisma`
    database_url: str | None = None  # from `export` or a `DATABASE_URL=… ` prefix

    def option(self, name: str) -> str | None:
        """`--name x` or `--name=x`."""
        for index, arg in enumerate(self.args):
            if arg == name and index + 1 < len(self.args):
                return self.args[index + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
        return None

    def flag(self, name: str) -> bool:
        return name in self.args


def parse(line: str) -> Command:
    try:
        words = shlex.split(line, comments=False)
    except ValueError as exc:  # an unclosed quote
        raise CommandError(f"Could not read the command: {exc}.") from exc
    if not words:
        return Command("empty")
    database_url = None
    while words and "=" in words[0] and not words[0].startswith("-"):
        name, value = words.pop(0).split("=", 1)
        if name != "DATABASE_URL":
            raise CommandError(f"Only DATABASE_URL can be set here, not {name}.")
        database_url = value
    if not words:
        if database_url is None:
            return Command("empty")
        # `DATABASE_URL=…` alone sets it for the session, as a shell variable would be for later exports.
        return Command("export", database_url=database_url)
    if words[0] == "export":
        if len(words) != 2 or not words[1].startswith("DATABASE_URL="):
            raise CommandError("Use: export DATABASE_URL=<one of the URLs on the environment cards>")
        return Command("export", database_url=words[1].split("=", 1)[1])
    if words[0] in ("help", "--help", "-h") or words == ["npx", "prisma"] or words == ["prisma"]:
        return Command("help")
    for launcher in PRISMA_LAUNCHERS:
        if tuple(words[: len(launcher)]) == launcher:
            words = words[len(launcher) :]
            break
    if words and words[0] in ("migrate", "db"):
        if any(w in ("--help", "-h") for w in words):
            return Command("help")
        return Command("prisma", args=words, database_url=database_url)
    raise CommandError(f"Unknown command: {line.strip()[:200]}")


def database_of(url: str) -> str | None:
    """The database name of a postgresql:// URL (what tells the environments apart)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
        return None
    return parts.path.strip("/")


def env_of(url: str, urls: dict[str, str]) -> str | None:
    """Which environment a DATABASE_URL names: the exact URL shown on a card, or its database."""
    for env, known in urls.items():
        if url == known:
            return env
    database = database_of(url)
    for env, known in urls.items():
        if database is not None and database == database_of(known):
            return env
    return None
