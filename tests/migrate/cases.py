"""The oracle cases in tests/fixtures/oracle (see its README)."""

from __future__ import annotations

import re
from pathlib import Path

ORACLE = Path(__file__).resolve().parent.parent / "fixtures" / "oracle"
CASES = sorted(p.name for p in ORACLE.iterdir() if p.is_dir())
SEEDED = [c for c in CASES if (ORACLE / c / "seed.sql").exists()]


def read(case: str, name: str) -> str:
    return (ORACLE / case / name).read_text()


def without_header(migration: str) -> str:
    """migration.sql without its `/* Warnings: */` block."""
    return re.sub(r"\A/\*\n.*?\n\*/\n", "", migration, flags=re.S)


def dev_stderr(case: str) -> str:
    """What Prisma printed on stderr for the seeded `migrate dev` run (generate.sh adds one newline)."""
    text = read(case, "dev.txt")
    stderr = text.split("### stderr (warnings / unexecutable steps)\n\n", 1)[1].split(
        "\n### migration.sql\n"
    )[0]
    return stderr.removesuffix("\n")
