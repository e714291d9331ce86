"""Suite `create_migration`: PRODUCT.md's "Create migration ≤ 150 ms median" for 10 models, 10 migrations.

One sample is `migrate_dev` end to end (parse, cached shadow replay, drift check, diff, render, warnings,
apply to dev); it is undone outside the timing so that every sample starts from the same 10-migration
history. The oracle (Prisma's own engine, a new Node process per diff as the real CLI runs it) is timed
on the same schema change when it is set up in /tmp/prisma-oracle.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from app.bench.core import Measurement
from sandbox import EmbeddedCluster
from sandbox.migrate import (
    MemoryHistory,
    Migration,
    SqlSchema,
    diff_schemas,
    migrate_deploy,
    migrate_dev,
    render_script,
)
from sandbox.prisma import to_sql_schema

MODELS = 10
ORACLE_DIR = Path(os.environ.get("MIGRATION_LAB_ORACLE", "/tmp/prisma-oracle"))
ORACLE_SAMPLES = 5
HEADER = 'datasource db {\n  provider = "postgresql"\n}\n'  # Prisma 7 refuses `url` in the schema
ENUMS = "enum Status {\n  ACTIVE\n  INACTIVE\n  ARCHIVED\n}\n"


def schema_with(models: int, extra_field: str = "") -> str:
    """Models M1..Mn, each with an id, five typed columns, a unique, an index and a relation to the
    previous model (as the oracle's gen_schema.py); `extra_field` is added to the last model."""
    parts = [HEADER, ENUMS]
    for i in range(1, models + 1):
        lines = [
            f"model M{i} {{",
            "  id        Int      @id @default(autoincrement())",
            "  code      String   @unique @db.VarChar(32)",
            "  title     String",
            "  amount    Decimal  @db.Decimal(10, 2)",
            "  status    Status   @default(ACTIVE)",
            "  createdAt DateTime @default(now())",
        ]
        if i > 1:
            lines += [
                f"  parent    M{i - 1}   @relation(fields: [parentId], references: [id], onDelete: Cascade)",
                "  parentId  Int",
            ]
        if i < models:
            lines.append(f"  children  M{i + 1}[]")
        if i == models and extra_field:
            lines.append(f"  {extra_field}")
        lines += ["", "  @@index([status, createdAt])", "}"]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def history_of_models(models: int) -> list[Migration]:
    """Migration k adds model Mk: the schema's history, one model at a time."""
    migrations = []
    for k in range(1, models + 1):
        before = to_sql_schema(schema_with(k - 1)) if k > 1 else SqlSchema()
        sql = render_script(diff_schemas(before, to_sql_schema(schema_with(k))))
        migrations.append(Migration(f"202401010000{k:02d}_m{k}", sql))
    return migrations


def _create_db(cluster: EmbeddedCluster) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(cluster.admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return cluster.admin_conninfo(name)


def _undo(dev: str, created: Migration) -> None:
    with psycopg.connect(dev, autocommit=True) as conn:
        conn.execute(f'ALTER TABLE "M{MODELS}" DROP COLUMN "note"')
        conn.execute("DELETE FROM _prisma_migrations WHERE migration_name = %s", (created.name,))


def time_create_migration(cluster: EmbeddedCluster, n: int) -> tuple[list[float], list[float]]:
    base = history_of_models(MODELS)
    target = schema_with(MODELS, "note      String?")
    dev, shadow = _create_db(cluster), _create_db(cluster)
    deployed = migrate_deploy(MemoryHistory(list(base)), dev)
    if deployed.exit_code != 0:
        raise RuntimeError(deployed.output)
    cold: list[float] = []
    warm: list[float] = []
    for i in range(n + 2):
        if i == 0:  # a cold shadow: the whole history replayed
            with psycopg.connect(shadow, autocommit=True) as conn:
                conn.execute("DROP SCHEMA IF EXISTS _migration_lab_shadow CASCADE")
        history = MemoryHistory(list(base))
        start = time.perf_counter()
        result = migrate_dev(history, dev, shadow, target, name="add note")
        elapsed = (time.perf_counter() - start) * 1000
        if result.exit_code != 0 or result.created_migration is None:
            raise RuntimeError(f"migrate dev failed in the bench:\n{result.output}")
        _undo(dev, result.created_migration)
        if i == 0:
            cold.append(elapsed)
        elif i >= 2:  # one warm-up after the cold run
            warm.append(elapsed)
    return warm, cold


def time_oracle(cluster: EmbeddedCluster) -> tuple[list[float], list[float]]:
    """`./diff.sh before.prisma after.prisma` as a new process each time (as `prisma migrate diff` runs),
    and the same diff repeated inside one started engine (`oracle.mjs diff --repeat`)."""
    script = ORACLE_DIR / "diff.sh"
    if not script.exists() or not (ORACLE_DIR / "node_modules").is_dir() or not shutil.which("node"):
        return [], []
    folder = Path(tempfile.mkdtemp(prefix="bench-oracle-"))
    before, after = folder / "before.prisma", folder / "after.prisma"
    before.write_text(schema_with(MODELS))
    after.write_text(schema_with(MODELS, "note      String?"))
    env = dict(os.environ, DATABASE_URL=cluster.tcp_url(cluster.superuser, cluster.password, "postgres"))
    process: list[float] = []
    try:
        for _ in range(ORACLE_SAMPLES):
            start = time.perf_counter()
            proc = subprocess.run(
                [str(script), str(before), str(after)], capture_output=True, text=True, env=env
            )
            process.append((time.perf_counter() - start) * 1000)
            if proc.returncode != 0 or "ALTER TABLE" not in proc.stdout:
                return [], []
        repeat = [
            "node",
            str(ORACLE_DIR / "oracle.mjs"),
            "diff",
            "--from-schema",
            str(before),
            "--to-schema",
            str(after),
            "--repeat",
            str(ORACLE_SAMPLES * 4),
        ]
        proc = subprocess.run(repeat, capture_output=True, text=True, env=env)
        found = re.search(r"warm diff ms: ([\d. ]+);", proc.stderr)
        warm = [float(x) for x in found.group(1).split()] if found else []
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return process, warm


def run(n: int) -> list[Measurement]:
    cluster = EmbeddedCluster.create(Path(tempfile.gettempdir()) / "migration-lab-bench", name="migrations")
    cluster.start()
    try:
        warm, cold = time_create_migration(cluster, n)
        measurements = [
            Measurement("create_migration_ms", warm, target="≤150 ms median (10 models, 10 migrations)"),
            Measurement("create_migration_cold_shadow_ms", cold, target="first run: replays 10 migrations"),
        ]
        process, warm_diff = time_oracle(cluster)
        if process:
            measurements.append(
                Measurement(
                    "oracle_prisma_diff_process_ms", process, target="reference: Prisma CLI, new process"
                )
            )
        if warm_diff:
            measurements.append(
                Measurement(
                    "oracle_prisma_diff_warm_ms", warm_diff, target="reference: diff only, engine started"
                )
            )
        return measurements
    finally:
        cluster.stop()
