"""squawk (`squawk-cli` on PyPI), the PostgreSQL migration linter, run once per file with JSON output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LINT_TIMEOUT_S = 20


class LintError(Exception):
    """squawk is missing or did not answer: the linter's problem, never the migration's."""


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    help: str
    offset: int  # character offset in the file where squawk points


def squawk_path() -> str:
    # Installed next to this interpreter when the project's virtualenv is not on PATH.
    beside = Path(sys.executable).with_name("squawk")
    found = str(beside) if beside.exists() else shutil.which("squawk")
    if not found:
        raise LintError("squawk is not installed (pip install squawk-cli)")
    return found


def _offset(text: str, line: int, column: int) -> int:
    """Character offset of squawk's 0-based line and column."""
    lines = text.split("\n")
    line = max(0, min(line, len(lines) - 1))
    return sum(len(part) + 1 for part in lines[:line]) + max(0, column)


def lint(text: str, assume_in_transaction: bool = False) -> list[Finding]:
    command = [squawk_path(), "--reporter", "json", "--stdin-filepath", "migration.sql"]
    if assume_in_transaction:
        command.append("--assume-in-transaction")
    try:
        # cwd "/": squawk reads a `.squawk.toml` from its working directory, and none must apply here.
        done = subprocess.run(
            command, input=text, capture_output=True, text=True, timeout=LINT_TIMEOUT_S, cwd="/"
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise LintError(f"squawk did not run: {error}") from error
    try:
        reported = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise LintError(f"squawk failed: {detail[0] if detail else f'exit {done.returncode}'}") from None
    return [
        Finding(
            rule=str(item.get("rule_name") or ""),
            message=str(item.get("message") or ""),
            help=str(item.get("help") or ""),
            offset=_offset(text, int(item.get("line") or 0), int(item.get("column") or 0)),
        )
        for item in reported
    ]
