"""Suite `risk`: the risk tracer on a copy of a prod database whose User table holds 100,000 rows (copy,
trace of a 5-statement migration, squawk, drop the copy: what `migration-lab risk` and the panel's Risk
view do), target ≤ 300 ms median; and what live traffic adds to a deploy (3 sessions of app queries)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import psycopg

from app.bench.core import Measurement, sample_ms
from sandbox import EmbeddedCluster
from sandbox.risk import AppQuery, run_with_traffic, throwaway_copy, trace

ROWS = 100_000
PROD = f"""
CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL, "name" TEXT, "score" INTEGER);
INSERT INTO "User" ("email", "name", "score")
SELECT 'user' || i || '@example.com', 'User ' || i, i % 100 FROM generate_series(1, {ROWS}) AS i;
ANALYZE;
"""
MIGRATION = """\
ALTER TABLE "User" ADD COLUMN "bio" TEXT;
ALTER TABLE "User" ADD COLUMN "active" BOOLEAN NOT NULL DEFAULT true;
CREATE INDEX "User_score_idx" ON "User"("score");
ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;
ALTER TABLE "User" RENAME COLUMN "score" TO "points";
"""
QUERIES = [
    AppQuery("load a user", 'SELECT "id", "email", "name" FROM "User" WHERE "id" = $1', (42,)),
    AppQuery("rename", 'UPDATE "User" SET "name" = $2 WHERE "id" = $1', (42, "Ada")),
]
DEPLOY = 'ALTER TABLE "User" ADD COLUMN "nickname" TEXT'
UNDO = 'ALTER TABLE "User" DROP COLUMN "nickname"'


def _risk(conninfo: str) -> None:
    with throwaway_copy(conninfo) as copy:
        report = trace(MIGRATION, copy)
    if report.failed or len(report.statements) != 5:
        raise RuntimeError(f"the bench's migration did not trace: {report.failed}")


def _deploy(conninfo: str, traffic: bool) -> None:
    with psycopg.connect(conninfo, autocommit=True) as deployer:
        if not traffic:
            deployer.execute(DEPLOY)
        else:
            def deploy() -> str:
                deployer.execute(DEPLOY)
                return ""

            sessions = [psycopg.connect(conninfo, autocommit=True) for _ in range(3)]
            try:
                timeline = run_with_traffic(sessions, QUERIES, deploy)
            finally:
                for conn in sessions:
                    conn.close()
            if timeline.deploy_error or not timeline.events:
                raise RuntimeError(f"the bench's deploy under traffic failed: {timeline.deploy_error}")
        deployer.execute(UNDO)


def run(n: int) -> list[Measurement]:
    with tempfile.TemporaryDirectory(prefix="migration-lab-bench-") as tmp:
        cluster = EmbeddedCluster.create(Path(tmp), name="bench-risk")
        cluster.start()
        try:
            with psycopg.connect(cluster.admin_conninfo(), autocommit=True) as admin:
                admin.execute("CREATE DATABASE prod")
            prod = cluster.admin_conninfo("prod")
            with psycopg.connect(prod, autocommit=True) as conn:
                conn.execute(PROD)
                conn.execute("CHECKPOINT")
            risk = sample_ms(lambda: _risk(prod), n)
            plain = sample_ms(lambda: _deploy(prod, False), max(5, n // 5))
            busy = sample_ms(lambda: _deploy(prod, True), max(5, n // 5))
        finally:
            cluster.stop(wipe=True)
    return [
        Measurement(f"risk_ms (5 statements, prod copy with {ROWS:,} rows)", risk, target="≤ 300 ms median"),
        Measurement("deploy_ms (ADD COLUMN, no traffic)", plain),
        Measurement("deploy_with_traffic_ms (3 sessions, 150 ms before and after)", busy),
        Measurement("traffic_overhead_ms (median difference)", value=Measurement("", busy).median
                    - Measurement("", plain).median),
    ]
