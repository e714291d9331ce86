"""Risk made visible: what a migration's statements lock, rewrite and break, observed on a copy.

    with throwaway_copy(url) as copy:        # or Workspace.scratch_copy(env) inside the sandbox
        report = trace(sql_text, copy)       # RiskReport: per statement locks, rewrites, scans, duration,
                                             # blocked operations, squawk findings; the copy ends migrated
        versions = check_versions(conn, {"v1": [AppQuery("load", 'SELECT … WHERE "id" = $1', (1,))]})
    timeline = run_with_traffic(sessions, queries, deploy)  # live traffic while `deploy()` runs

Errors: SqlSyntaxError (line, column), LintError (squawk), TraceError / CopyError (database), all with a
message for people. `locks` holds PostgreSQL's lock modes, their conflict table and plain words.
"""

from sandbox.risk.appcheck import AppQuery, QueryResult, VersionResult, check_versions, run_query
from sandbox.risk.copy import CopyError, throwaway_copy
from sandbox.risk.lint import Finding, LintError
from sandbox.risk.locks import MODES, RANK, blocked_operations, plain_words
from sandbox.risk.statements import SqlSyntaxError
from sandbox.risk.tracer import Lock, RiskReport, StatementRisk, TraceError, trace
from sandbox.risk.traffic import Timeline, TrafficEvent, run_with_traffic

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
    "StatementRisk",
    "Timeline",
    "TraceError",
    "TrafficEvent",
    "VersionResult",
    "blocked_operations",
    "check_versions",
    "plain_words",
    "run_query",
    "run_with_traffic",
    "throwaway_copy",
    "trace",
]
