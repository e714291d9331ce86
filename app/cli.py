"""`migration-lab`: one entry point; each feature adds its own sub-commands."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

# Command -> (module exposing `register(subparsers)`, which adds parsers whose `func(args) -> int` runs
# them; one line of help). Only the module of the command being run is imported, so a command that needs
# no web app (`diff`, `risk`) starts in a fraction of the time the web app takes to import.
COMMANDS: dict[str, tuple[str, str]] = {
    "bench": ("app.bench.cli", "measure the performance targets (median, p95)"),
    "serve": ("app.serve_cli", "serve the course (http://127.0.0.1:8000 by default)"),
    "lessons": ("app.serve_cli", "course content tools"),
    "migrate": ("sandbox.migrate.cli", "Prisma Migrate's commands on a prisma/ folder"),
    "diff": ("sandbox.migrate.cli", "print the SQL between two schemas, like prisma migrate diff --script"),
    "risk": ("sandbox.risk.cli", "what a migration locks, rewrites and breaks, traced on a database copy"),
}


def _command(argv: Sequence[str]) -> str | None:
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in COMMANDS else None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for `command` only (its module imported), or for every command when None."""
    parser = argparse.ArgumentParser(prog="migration-lab", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = [command] if command else list(COMMANDS)
    for module in dict.fromkeys(COMMANDS[name][0] for name in names):
        importlib.import_module(module).register(subparsers)
    return parser


def _overview() -> argparse.ArgumentParser:
    """`migration-lab --help` without importing any command: the names and help lines of the table."""
    parser = argparse.ArgumentParser(prog="migration-lab", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        subparsers.add_parser(name, help=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command(argv)
    parser = build_parser(command) if command else _overview()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
