"""Differential fuzzing against Prisma's own schema engine (the prisma-oracle tool, batch mode).

    DATABASE_URL=postgresql://postgres@127.0.0.1:54329/postgres \\
        .venv/bin/python -m fuzz.driver --pairs 2000 --oracle /tmp/prisma-oracle --out /tmp/fuzz-out

For each random pair (before, after) of valid schemas it compares, with Prisma 7.10.1's engine:
- text: `migrate diff --from-schema before --to-schema after --script` (and `--from-empty` of before),
  or both refusing the schema;
- catalog: when the texts differ, Prisma's `before` SQL is applied to a scratch database, then our SQL,
  and the catalog (columns in order, constraints, indexes, enums) is compared with the one Prisma's SQL
  gives on the same start.
Every disagreement is written to `--out` (before.prisma, after.prisma, prisma.sql, ours.sql) for
minimising by hand into a fixture of tests/fixtures/oracle.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
from hypothesis import HealthCheck, Phase, given, settings

from fuzz import dev_data
from fuzz.schemas import SCHEMA_NAMES, pairs
from sandbox.migrate.commands import diff

CATALOG_QUERIES = {
    "columns": """SELECT n.nspname, c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
        a.attnotnull, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname IN (SCHEMAS) AND c.relkind = 'r' AND a.attnum > 0
        AND NOT a.attisdropped ORDER BY 1, 2, 3""",
    "constraints": """SELECT n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN (SCHEMAS) ORDER BY 1, 2, 3""",
    "indexes": """SELECT schemaname, indexname, indexdef FROM pg_indexes WHERE schemaname IN (SCHEMAS)
        ORDER BY 1, 2""",
    "enums": """SELECT n.nspname, t.typname, e.enumsortorder, e.enumlabel FROM pg_enum e JOIN pg_type t
        ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace ORDER BY 1, 2, 3""",
    "sequences": """SELECT schemaname, sequencename FROM pg_sequences WHERE schemaname IN (SCHEMAS)
        ORDER BY 1, 2""",
}
# The database schemas the generator uses (fuzz.schemas.SCHEMA_NAMES): each catalog query reads them all.
SCHEMAS = ", ".join(f"'{name}'" for name in SCHEMA_NAMES)
CATALOG_QUERIES = {name: query.replace("SCHEMAS", SCHEMAS) for name, query in CATALOG_QUERIES.items()}


def generate(count: int, seed: int) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(pairs())
    def collect(pair: tuple[str, str]) -> None:
        found.append(pair)

    collect._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]
    collect()
    unique = list(dict.fromkeys(found))
    return unique[:count]


def run_oracle(oracle: Path, jobs: list[dict[str, str | None]]) -> dict[str, dict[str, str]]:
    text = "".join(json.dumps(job) + "\n" for job in jobs)
    done = subprocess.run(
        ["node", str(oracle / "oracle.mjs"), "batch"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=oracle,
    )
    results = {}
    for line in done.stdout.splitlines():
        if line.strip():
            item = json.loads(line)
            results[str(item["id"])] = item
    return results


def ours(from_text: str | None, to_text: str | None) -> dict[str, str]:
    result = diff(from_text, to_text)
    if result.exit_code == 1:
        return {"error": result.output}
    return {"sql": result.output}


def catalog(url: str, scripts: list[str]) -> tuple[dict[str, list[tuple[object, ...]]] | None, str]:
    with psycopg.connect(url, autocommit=True) as conn:
        for name in SCHEMA_NAMES:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'.encode())
        conn.execute("CREATE SCHEMA public")
        for script in scripts:
            try:
                conn.execute(script.encode())
            except psycopg.Error as err:
                return None, str(err).strip()
        return {name: conn.execute(q.encode()).fetchall() for name, q in CATALOG_QUERIES.items()}, ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--oracle", type=Path, default=Path(os.environ.get("MIGRATION_LAB_ORACLE", "/tmp/prisma-oracle"))
    )
    parser.add_argument("--out", type=Path, default=Path("/tmp/fuzz-out"))
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument(
        "--dev",
        type=int,
        default=0,
        metavar="N",
        help="also compare `migrate dev` on tables with rows (warnings, unexecutable steps, migration.sql) "
        "for the first N pairs Prisma accepts (slow: two Node runs each)",
    )
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("give --url or DATABASE_URL (the oracle's PostgreSQL)")
    started = time.monotonic()
    generated = generate(args.pairs, args.seed)
    print(f"{len(generated)} pairs generated in {time.monotonic() - started:.0f} s", file=sys.stderr)
    jobs: list[dict[str, str | None]] = []
    for i, (before, after) in enumerate(generated):
        jobs.append({"id": f"{i}:b", "from": None, "to": before})
        jobs.append({"id": f"{i}:d", "from": before, "to": after})
    results = run_oracle(args.oracle, jobs)
    print(f"oracle done at {time.monotonic() - started:.0f} s", file=sys.stderr)

    scratch = f"fuzz_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{scratch}"'.encode())
    scratch_url = psycopg.conninfo.make_conninfo(args.url, dbname=scratch)
    args.out.mkdir(parents=True, exist_ok=True)
    text_ok = catalog_ok = rejected = 0
    disagreements: list[str] = []
    try:
        for i, (before, after) in enumerate(generated):
            prisma_b, prisma_d = results[f"{i}:b"], results[f"{i}:d"]
            our_b, our_d = ours(None, before), ours(before, after)
            same_text = ("error" in prisma_b) == ("error" in our_b) and ("error" in prisma_d) == (
                "error" in our_d
            )
            if "error" in prisma_b or "error" in prisma_d:
                rejected += 1
            else:
                same_text = (
                    same_text and our_b.get("sql") == prisma_b["sql"] and our_d.get("sql") == prisma_d["sql"]
                )
            if same_text:
                text_ok += 1
                catalog_ok += 1
                continue
            same_catalog = False
            detail = ""
            if "sql" in prisma_b and "sql" in prisma_d and "sql" in our_b and "sql" in our_d:
                theirs, their_err = catalog(scratch_url, [prisma_b["sql"], prisma_d["sql"]])
                mine, my_err = catalog(scratch_url, [our_b["sql"], our_d["sql"]])
                same_catalog = theirs == mine and their_err == my_err
                detail = f"prisma apply error: {their_err}\nour apply error: {my_err}\n"
                if theirs and mine:
                    detail += "".join(
                        f"{k}: prisma {theirs[k]}\n   ours {mine[k]}\n"
                        for k in theirs
                        if theirs[k] != mine[k]
                    )
            if same_catalog:
                catalog_ok += 1
            case = args.out / f"case_{i:05d}"
            case.mkdir(exist_ok=True)
            (case / "before.prisma").write_text(before)
            (case / "after.prisma").write_text(after)
            for name, item in (
                ("prisma_before", prisma_b),
                ("prisma", prisma_d),
                ("ours_before", our_b),
                ("ours", our_d),
            ):
                (case / f"{name}.txt").write_text(item.get("sql", "") or "ERROR " + item.get("error", ""))
            (case / "catalog.txt").write_text(f"same catalog: {same_catalog}\n{detail}")
            disagreements.append(f"{case.name} catalog={'same' if same_catalog else 'DIFFERENT'}")
    finally:
        with psycopg.connect(args.url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'.encode())
    total = len(generated)
    dev_ok = dev_total = 0
    for i, (before, after) in enumerate(generated):
        if dev_total >= args.dev:
            break
        prisma_b, prisma_d = results[f"{i}:b"], results[f"{i}:d"]
        if "sql" not in prisma_b or "sql" not in prisma_d:
            continue
        same, detail = dev_data.compare(args.oracle, args.url, before, after, prisma_b["sql"])
        if same is None:
            continue
        dev_total += 1
        if same:
            dev_ok += 1
            continue
        case = args.out / f"dev_{i:05d}"
        case.mkdir(exist_ok=True)
        (case / "before.prisma").write_text(before)
        (case / "after.prisma").write_text(after)
        (case / "dev.txt").write_text(detail)
        disagreements.append(f"{case.name} migrate dev on rows differs")
    print("\n".join(disagreements))
    print(
        f"pairs: {total} (both sides refused by Prisma's engine: {rejected})\n"
        f"text agreement: {text_ok}/{total} = {100 * text_ok / total:.2f} %\n"
        f"catalog agreement: {catalog_ok}/{total} = {100 * catalog_ok / total:.2f} %\n"
        + (f"migrate dev on rows: {dev_ok}/{dev_total} agree\n" if dev_total else "")
        + f"time: {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
