"""`migration-lab risk MIGRATION.sql --url URL [--json] [--fail-on MODE|RULE …]`, for any project and CI.

Exit status: 0 when the migration was traced (whatever it found); 1 when it could not be (missing file,
SQL syntax error, unreachable or uncopiable database) or when a statement fails on the copy; 3 when a
`--fail-on` lock mode (or a stronger one) is taken or a `--fail-on` squawk rule is reported.
Everything heavy is imported when the command runs, so `--help` answers at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.risk.locks import MODES, RANK, blocked_operations, plain_words

if TYPE_CHECKING:
    from sandbox.risk.tracer import RiskReport, StatementRisk

FAIL_ON_MATCHED = 3
_MODE_KEYS = {mode.lower().removesuffix("lock"): mode for mode in MODES}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "risk",
        help="what a migration locks, rewrites and breaks, traced on a copy of a database",
        description="Trace each statement of MIGRATION.sql on a throwaway copy of the database at URL "
        "(CREATE DATABASE … TEMPLATE: needs CREATEDB and no other session on it; the database itself is "
        "never changed): the table locks it takes, the tables it rewrites, how long it ran, what the "
        "lock blocks, and squawk's findings.",
    )
    parser.add_argument("migration", type=Path, metavar="MIGRATION.sql")
    parser.add_argument("--url", help="the database to copy (default: $DATABASE_URL)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--fail-on", action="append", nargs="+", default=[], metavar="MODE|RULE",
        help="exit 3 when a statement takes this lock mode or a stronger one (AccessExclusiveLock, "
        "ShareLock…) or squawk reports this rule (require-concurrent-index-creation…)",
    )
    parser.set_defaults(func=run)


def _fail(message: str) -> int:
    first_line = (message.strip().splitlines() or [""])[0]
    sys.stderr.write(f"migration-lab risk: error: {first_line}\n")
    return 1


def _mode(value: str) -> str | None:
    key = value.replace(" ", "").replace("_", "").lower().removesuffix("lock")
    return _MODE_KEYS.get(key)


def matched_fail_on(report: RiskReport, wanted: list[str]) -> list[str]:
    """What the report holds of `--fail-on`, as sentences."""
    found = []
    for value in wanted:
        mode = _mode(value)
        for s in report.statements:
            if mode and s.strongest and RANK[s.strongest.mode] >= RANK[mode]:
                found.append(f"statement {s.index} (line {s.line}) takes {s.strongest.mode}")
            if not mode and any(f.rule == value for f in s.lint):
                found.append(f"statement {s.index} (line {s.line}) has squawk's {value}")
    return found


def _statement_text(s: StatementRisk) -> list[str]:
    first_line = " ".join(s.sql.split())
    lines = [f"{s.index}. line {s.line}  {first_line[:100]}{'…' if len(first_line) > 100 else ''}"]
    if s.error:
        lines.append(f"   FAILS    {s.error}")
        return lines
    if s.strongest:
        others = ", ".join(f"{lock.mode} on {lock.relation}" for lock in s.locks[1:])
        lines.append(
            f"   lock     {s.strongest.mode} on {s.strongest.relation}: {plain_words(s.strongest.mode)} "
            f"for {s.duration_ms} ms" + (f" (also {others})" if others else "")
        )
        lines.append(f"   blocks   {', '.join(blocked_operations(s.strongest.mode)) or 'nothing'}")
    else:
        lines.append(f"   lock     none on an existing table ({s.duration_ms} ms)")
    lines.append(f"   rewrite  {', '.join(s.rewrites) + ' (every row copied)' if s.rewrites else 'none'}")
    if s.scans:
        lines.append(f"   scan     {', '.join(s.scans)} (every row read)")
    for finding in s.lint:
        lines.append(f"   squawk   {finding.rule}: {finding.message}")
        if finding.help:
            lines.append(f"            → {finding.help}")
    if s.note:
        lines.append(f"   note     {s.note}")
    return lines


def render_text(report: RiskReport, source: str) -> str:
    lines = [f"{source}: {len(report.statements)} statement(s), traced on a throwaway copy", ""]
    for s in report.statements:
        lines += [*_statement_text(s), ""]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from sandbox.risk.copy import CopyError, throwaway_copy
    from sandbox.risk.linter import LintError
    from sandbox.risk.statements import SqlSyntaxError
    from sandbox.risk.tracer import TraceError, trace

    wanted = [value for group in args.fail_on for value in group]
    for value in wanted:
        if not _mode(value) and "-" not in value:
            return _fail(f"--fail-on {value}: neither a lock mode ({', '.join(MODES)}) nor a squawk rule")
    url = args.url or os.environ.get("DATABASE_URL")
    if not url:
        return _fail("no database: give --url or set DATABASE_URL")
    try:
        text = args.migration.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return _fail(f"cannot read {args.migration}: {getattr(error, 'strerror', None) or error}")
    try:
        with throwaway_copy(url) as copy:
            report = trace(text, copy)
    except SqlSyntaxError as error:
        return _fail(f"{args.migration}: line {error.line}, column {error.column}: {error.message}")
    except (CopyError, TraceError, LintError) as error:
        return _fail(str(error))
    print(json.dumps(report.to_json(), indent=2) if args.json else render_text(report, str(args.migration)))
    if failed := report.failed:
        return _fail(f"statement {failed.index} (line {failed.line}) fails on the copy: {failed.error}")
    if matched := matched_fail_on(report, wanted):
        sys.stderr.write("".join(f"migration-lab risk: --fail-on: {m}\n" for m in matched))
        return FAIL_ON_MATCHED
    return 0
