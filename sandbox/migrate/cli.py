"""`migration-lab migrate dev|deploy|status|reset|resolve` on a Prisma folder, and `migration-lab diff`.

The folder is Prisma's: `--schema path/schema.prisma` (default `./prisma/schema.prisma`) with
`migrations/` beside it; the database comes from `--url` or DATABASE_URL, as with `prisma migrate`.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the commands import what they need when they run: `diff` needs no database driver
    from sandbox.migrate.commands import CommandResult
    from sandbox.migrate.history import FolderHistory

DEFAULT_SCHEMA = Path("prisma/schema.prisma")
RESET_NON_INTERACTIVE = (
    "Prisma Migrate has detected that the environment is non-interactive. It is recommended to run this "
    "command in an interactive environment.\n\nUse --force to run this command without user interaction.\n"
    "See https://www.prisma.io/docs/reference/api-reference/command-reference#migrate-reset"
)
DEV_NON_INTERACTIVE = (
    "Prisma Migrate has detected that the environment is non-interactive, which is not supported.\n\n"
    "`prisma migrate dev` is an interactive command designed to create new migrations and evolve the "
    "database in development.\nTo apply existing migrations in deployments, use prisma migrate deploy.\n"
    "See https://www.prisma.io/docs/reference/api-reference/command-reference#migrate-deploy"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    migrate = subparsers.add_parser("migrate", help="Prisma Migrate's commands on a prisma/ folder")
    actions = migrate.add_subparsers(dest="migrate_command", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help_text)
        parser.add_argument(
            "--schema", type=Path, default=DEFAULT_SCHEMA, help="default ./prisma/schema.prisma"
        )
        parser.add_argument("--url", help="the database (default: $DATABASE_URL)")
        return parser

    dev = action("dev", "create a migration from schema changes and apply it to the dev database")
    dev.add_argument("-n", "--name", help="name the migration")
    dev.add_argument("--create-only", action="store_true", help="create the migration without applying it")
    dev.add_argument(
        "--shadow-url", help="shadow database (default: a temporary database on the same server)"
    )
    dev.set_defaults(func=run_dev)
    action("deploy", "apply pending migrations (production/staging)").set_defaults(func=run_deploy)
    action("status", "check the status of the migrations").set_defaults(func=run_status)
    reset = action("reset", "drop the database's schema and apply every migration")
    reset.add_argument("-f", "--force", action="store_true", help="skip the confirmation prompt")
    reset.set_defaults(func=run_reset)
    resolve = action("resolve", "mark a failed migration as applied or rolled back")
    resolve.add_argument("--applied", metavar="MIGRATION")
    resolve.add_argument("--rolled-back", metavar="MIGRATION")
    resolve.set_defaults(func=run_resolve)

    diff = subparsers.add_parser(
        "diff",
        help="print the SQL between two schemas, like prisma migrate diff --script",
        usage="migration-lab diff (--from-empty | FROM.prisma) (TO.prisma | --to-empty) [--exit-code]",
    )
    diff.add_argument("schemas", nargs="*", type=Path, metavar="SCHEMA")
    diff.add_argument("--from-empty", action="store_true")
    diff.add_argument("--to-empty", action="store_true")
    diff.add_argument(
        "--exit-code", action="store_true", help="exit 2 when there is a difference, 0 when none"
    )
    diff.set_defaults(func=run_diff)


# -- helpers ---------------------------------------------------------------------------------------


def _emit(result: CommandResult) -> int:
    stream = sys.stderr if result.error_code is not None else sys.stdout
    stream.write(result.output)
    stream.flush()
    return result.exit_code


def _error(message: str) -> int:
    sys.stderr.write(f"Error: {message}\n")
    return 1


def _url(args: argparse.Namespace) -> str | None:
    return args.url or os.environ.get("DATABASE_URL")


def _header(args: argparse.Namespace, url: str) -> None:
    """Prisma's two opening lines, naming the schema file and the database it works on."""
    from psycopg.conninfo import conninfo_to_dict

    from sandbox.migrate.shadow import location

    params = conninfo_to_dict(url)
    print(f"Prisma schema loaded from {args.schema}")
    print(
        f'Datasource "db": PostgreSQL database "{params.get("dbname", "")}", schema "public" at '
        f'"{location(url)}"\n'
    )


def _history(args: argparse.Namespace) -> FolderHistory:
    from sandbox.migrate.history import FolderHistory

    return FolderHistory(args.schema.parent / "migrations")


def _confirm(question: str) -> bool:
    answer = input(f"? {question} › (y/N) ")
    return answer.strip().lower() in ("y", "yes")


def _prepare(args: argparse.Namespace) -> str | int:
    url = _url(args)
    if not url:
        return _error(
            "Environment variable not found: DATABASE_URL.\nGive the database with --url or DATABASE_URL."
        )
    _header(args, url)
    return url


# -- the commands ----------------------------------------------------------------------------------


def run_deploy(args: argparse.Namespace) -> int:
    from sandbox.migrate import commands

    url = _prepare(args)
    return url if isinstance(url, int) else _emit(commands.migrate_deploy(_history(args), url))


def run_status(args: argparse.Namespace) -> int:
    from sandbox.migrate import commands

    url = _prepare(args)
    return url if isinstance(url, int) else _emit(commands.migrate_status(_history(args), url))


def run_resolve(args: argparse.Namespace) -> int:
    from sandbox.migrate import commands

    url = _prepare(args)
    if isinstance(url, int):
        return url
    return _emit(
        commands.migrate_resolve(_history(args), url, applied=args.applied, rolled_back=args.rolled_back)
    )


def run_reset(args: argparse.Namespace) -> int:
    from sandbox.migrate import commands

    url = _prepare(args)
    if isinstance(url, int):
        return url
    force = args.force
    if not force:
        if not sys.stdin.isatty():
            return _error(RESET_NON_INTERACTIVE)
        if not _confirm(commands.RESET_PROMPT):
            print("Reset cancelled.")
            return 130
        force = True
    return _emit(commands.migrate_reset(_history(args), url, force=force))


def run_dev(args: argparse.Namespace) -> int:
    from sandbox.migrate import commands
    from sandbox.migrate.shadow import ShadowCreationError, temporary_shadow

    url = _prepare(args)
    if isinstance(url, int):
        return url
    if not args.schema.is_file():
        return _error(
            f"Could not find Prisma Schema that is required for this command.\nNo file at {args.schema}: "
            "give it with --schema or put it at the default location ./prisma/schema.prisma"
        )
    schema = args.schema.read_text()
    shadow_url = args.shadow_url or os.environ.get("SHADOW_DATABASE_URL")
    try:
        with nullcontext(shadow_url) if shadow_url else temporary_shadow(url) as shadow:

            def dev(accept: bool) -> CommandResult:
                return commands.migrate_dev(
                    _history(args),
                    url,
                    shadow,
                    schema,
                    name=args.name,
                    create_only=args.create_only,
                    accept_data_loss=accept,
                    schema_path=str(args.schema),
                )

            result = dev(False)
            if not result.needs_confirmation:
                return _emit(result)
            if not sys.stdin.isatty():
                sys.stdout.write(result.output.rsplit("\n", 2)[0] + "\n")
                return _error(DEV_NON_INTERACTIVE)
            if not _confirm(result.output.rstrip("\n").rsplit("\n", 1)[-1]):
                print("Migration cancelled.")
                return 130
            return _emit(dev(True))
    except ShadowCreationError as err:
        return _error(f"{err.code}\n\n{err}")


def run_diff(args: argparse.Namespace) -> int:
    from sandbox.migrate.script_diff import diff_script, schema_error_text
    from sandbox.prisma import SchemaError

    files = list(args.schemas)
    expected = 2 - int(args.from_empty) - int(args.to_empty)
    if len(files) != expected:
        return _error(
            "usage: migration-lab diff (--from-empty | FROM.prisma) (TO.prisma | --to-empty): "
            f"expected {expected} schema file(s), got {len(files)}."
        )
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        return _error(f"Could not find the schema file {', '.join(missing)}.")
    from_file = None if args.from_empty else files.pop(0)
    to_file = None if args.to_empty else files.pop(0)
    try:
        sql, changed = diff_script(
            from_file.read_text() if from_file else None,
            to_file.read_text() if to_file else None,
            from_path=str(from_file or "schema.prisma"),
            to_path=str(to_file or "schema.prisma"),
        )
    except SchemaError as err:
        return _error(f"P1012\n\n{schema_error_text(err, err.path or 'schema.prisma')}")
    sys.stdout.write(sql if sql.endswith("\n") else sql + "\n")
    return 2 if args.exit_code and changed else 0
