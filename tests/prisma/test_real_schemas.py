"""Whole schema.prisma histories of public projects (tests/fixtures/real, collected by
fuzz/real_schemas.py): every version Prisma 7.10.1's engine accepts is accepted here, and the migration
from the version before it is Prisma's, byte for byte."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from sandbox.migrate.script_diff import diff_script

REAL = Path(__file__).resolve().parent.parent / "fixtures" / "real"
PROJECTS = sorted(p.name.removesuffix(".jsonl.gz") for p in REAL.glob("*.jsonl.gz"))


def records(project: str) -> list[dict[str, str]]:
    with gzip.open(REAL / f"{project}.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def test_histories_are_there() -> None:
    assert len(PROJECTS) >= 4
    assert sum("sql" in r for p in PROJECTS for r in records(p)) >= 500


@pytest.mark.parametrize("project", PROJECTS)
def test_every_version_prisma_accepts_migrates_like_prisma(project: str) -> None:
    history = records(project)
    different = []
    for i, record in enumerate(history):
        if "sql" not in record:
            continue  # Prisma's engine refused this version or the one before it
        previous = history[i - 1]["schema"] if i else None
        sql, _ = diff_script(previous, record["schema"])
        # The command prints a newline after the empty-migration comment, as Prisma's does.
        if sql.rstrip("\n") != record["sql"].rstrip("\n"):
            different.append(record["commit"][:10])
    assert different == []
