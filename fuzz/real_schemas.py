"""Real schema histories: every version of a public project's schema.prisma, run through Prisma's engine.

    DATABASE_URL=postgresql://postgres@127.0.0.1:54329/postgres .venv/bin/python -m fuzz.real_schemas \\
        --git /work/.mirror/documenso+documenso/repo --path packages/prisma/schema.prisma --name documenso

writes tests/fixtures/real/<name>.jsonl.gz: one record per version (oldest first, consecutive duplicates
left out): the commit, the schema text, and what Prisma 7.10.1's engine gave for `migrate diff` from the
previous version (from empty for the first): `sql`, or `error` when it refused either side.
tests/prisma/test_real_schemas.py replays them without Node.

Prisma 7 no longer accepts connection URLs in the schema, so the datasource's `url`, `directUrl` and
`shadowDatabaseUrl` lines are removed from every version first (what upgrading to Prisma 7 asks for).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
from pathlib import Path

from fuzz.driver import run_oracle

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "real"
URL_PROPERTIES = ("url", "directUrl", "shadowDatabaseUrl")


def without_urls(schema: str) -> str:
    """The schema without the datasource's URL properties (each is one line, like every property)."""
    out, in_datasource = [], False
    for line in schema.split("\n"):
        words = line.split()
        if words[:1] == ["datasource"]:
            in_datasource = True
        elif in_datasource and words[:1] == ["}"]:
            in_datasource = False
        if in_datasource and words and words[0].split("=")[0] in URL_PROPERTIES:
            continue
        out.append(line)
    return "\n".join(out)


def history(git_dir: Path, path: str) -> list[tuple[str, str]]:
    commits = subprocess.run(
        ["git", "-C", str(git_dir), "log", "--reverse", "--format=%H", "--", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    versions: list[tuple[str, str]] = []
    for commit in commits:
        shown = subprocess.run(
            ["git", "-C", str(git_dir), "show", f"{commit}:{path}"], capture_output=True, text=True
        )
        if shown.returncode != 0:
            continue  # the file was deleted in this commit
        text = without_urls(shown.stdout)
        if not versions or versions[-1][1] != text:
            versions.append((commit, text))
    return versions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--git", type=Path, required=True, help="a git directory holding the history")
    parser.add_argument("--path", required=True, help="the schema file's path in the repository")
    parser.add_argument("--name", required=True, help="the fixture's name (the project)")
    parser.add_argument(
        "--oracle", type=Path, default=Path(os.environ.get("MIGRATION_LAB_ORACLE", "/tmp/prisma-oracle"))
    )
    args = parser.parse_args(argv)
    versions = history(args.git, args.path)
    jobs: list[dict[str, str | None]] = []
    for i, (_, text) in enumerate(versions):
        jobs.append({"id": str(i), "from": versions[i - 1][1] if i else None, "to": text})
    results = run_oracle(args.oracle, jobs)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    target = FIXTURES / f"{args.name}.jsonl.gz"
    accepted = 0
    with gzip.open(target, "wt", encoding="utf-8") as out:
        for i, (commit, text) in enumerate(versions):
            result = results[str(i)]
            record = {"commit": commit, "path": args.path, "schema": text}
            if "sql" in result:
                record["sql"] = result["sql"]
                accepted += 1
            else:
                record["error"] = result.get("error", "")
            out.write(json.dumps(record) + "\n")
    print(f"{args.name}: {len(versions)} versions, {accepted} diffs accepted by Prisma's engine -> {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
