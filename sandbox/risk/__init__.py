"""Risk made visible: what a migration's statements lock, rewrite and break, observed on a copy.

    with throwaway_copy(url) as copy:        # or Workspace.scratch_copy(env) inside the sandbox
        report = trace(sql_text, copy)       # RiskReport: per statement locks, rewrites, scans, duration,
                                             # blocked operations, squawk findings; the copy ends migrated
        versions = check_versions(conn, {"v1": [AppQuery("load", 'SELECT … WHERE "id" = $1', (1,))]})
    timeline = run_with_traffic(sessions, queries, deploy)  # live traffic while `deploy()` runs

`split(sql) -> [Statement]` (pglast; SqlSyntaxError), `lint(sql) -> [Finding]` (squawk), `pg_error(err)`
(PostgreSQL's message and position in words).

Errors: SqlSyntaxError (line, column), LintError (squawk), TraceError / CopyError (database), all with a
message for people. `locks` holds PostgreSQL's lock modes, their conflict table and plain words.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.risk.appcheck import AppQuery, QueryResult, VersionResult, check_versions, run_query
    from sandbox.risk.copy import CopyError, throwaway_copy
    from sandbox.risk.linter import Finding, LintError, lint
    from sandbox.risk.locks import MODES, RANK, blocked_operations, plain_words
    from sandbox.risk.statements import SqlSyntaxError, Statement, split
    from sandbox.risk.tracer import Lock, RiskReport, StatementRisk, TraceError, pg_error, trace
    from sandbox.risk.traffic import Timeline, TrafficEvent, run_with_traffic

# Imported on first use: `migration-lab risk --help` needs none of psycopg, pglast or squawk.
_LAZY = {
    "AppQuery": "sandbox.risk.appcheck",
    "QueryResult": "sandbox.risk.appcheck",
    "VersionResult": "sandbox.risk.appcheck",
    "check_versions": "sandbox.risk.appcheck",
    "run_query": "sandbox.risk.appcheck",
    "CopyError": "sandbox.risk.copy",
    "throwaway_copy": "sandbox.risk.copy",
    "Finding": "sandbox.risk.linter",
    "LintError": "sandbox.risk.linter",
    "lint": "sandbox.risk.linter",
    "MODES": "sandbox.risk.locks",
    "RANK": "sandbox.risk.locks",
    "blocked_operations": "sandbox.risk.locks",
    "plain_words": "sandbox.risk.locks",
    "SqlSyntaxError": "sandbox.risk.statements",
    "Statement": "sandbox.risk.statements",
    "split": "sandbox.risk.statements",
    "Lock": "sandbox.risk.tracer",
    "RiskReport": "sandbox.risk.tracer",
    "StatementRisk": "sandbox.risk.tracer",
    "TraceError": "sandbox.risk.tracer",
    "trace": "sandbox.risk.tracer",
    "pg_error": "sandbox.risk.tracer",
    "Timeline": "sandbox.risk.traffic",
    "TrafficEvent": "sandbox.risk.traffic",
    "run_with_traffic": "sandbox.risk.traffic",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sandbox.risk' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = [
    "MODES",
    "RANK",
    "AppQuery",
    "CopyError",
    "Finding",
    "LintError",
    "Lock",
    "QueryResult",
    "RiskReport",
    "SqlSyntaxError",
    "Statement",
    "StatementRisk",
    "Timeline",
    "TraceError",
    "TrafficEvent",
    "VersionResult",
    "blocked_operations",
    "check_versions",
    "lint",
    "pg_error",
    "plain_words",
    "run_query",
    "run_with_traffic",
    "split",
    "throwaway_copy",
    "trace",
]
