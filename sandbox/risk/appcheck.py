"""Run each application version's queries against a (migrated) database: which still work.

Queries are the application's own text with `$1` placeholders and their parameters; each runs in a
transaction that is rolled back, so a version's writes never change what the next query sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pglast
import psycopg
from pglast import ast
from pglast.visitors import Visitor

from sandbox.risk.tracer import pg_error


@dataclass(frozen=True)
class AppQuery:
    name: str
    sql: str
    params: tuple[Any, ...] = ()  # values for $1, $2, ... (JSON-like: numbers, strings, None)

    def bound(self) -> list[Any]:
        """The parameters, NULL for every `$n` the author gave no value for: the query still tells
        whether the schema has what it names."""
        wanted = parameter_count(self.sql)
        return list(self.params) + [None] * max(0, wanted - len(self.params))


class _Params(Visitor):
    def __init__(self) -> None:
        self.highest = 0

    def visit_ParamRef(self, ancestors: object, node: ast.ParamRef) -> None:  # noqa: N802 (pglast's name)
        self.highest = max(self.highest, node.number or 0)


def parameter_count(sql: str) -> int:
    """The highest `$n` of a query, read with PostgreSQL's parser (0 when it does not parse)."""
    try:
        tree = pglast.parse_sql(sql)
    except pglast.parser.ParseError:
        return 0
    visitor = _Params()
    visitor(tree)
    return visitor.highest


@dataclass
class QueryResult:
    query: AppQuery
    error: str = ""  # PostgreSQL's error, empty when the query ran

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class VersionResult:
    version: str
    results: list[QueryResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def passed(self) -> int:
        return sum(r.ok for r in self.results)

    def summary(self) -> str:
        """"app v1: 3/3 queries OK" or "v2: 2/3 — column "name" does not exist"."""
        label = self.version if self.version.startswith("app") else f"app {self.version}"
        text = f"{label}: {self.passed}/{len(self.results)} queries OK"
        failed = next((r for r in self.results if not r.ok), None)
        return f"{text} — {failed.query.name}: {failed.error}" if failed else text


def run_query(conn: psycopg.Connection, query: AppQuery) -> str:
    """Run one query in a rolled-back transaction; PostgreSQL's error, or "" when it worked."""
    try:
        with conn.transaction(force_rollback=True), psycopg.RawCursor(conn) as cursor:
            cursor.execute(query.sql.encode(), query.bound())
            if cursor.description is not None:
                cursor.fetchmany(100)
    except psycopg.Error as error:
        return pg_error(error)
    return ""


def check_versions(
    conn: psycopg.Connection, versions: dict[str, list[AppQuery]]
) -> list[VersionResult]:
    """Each version's queries on `conn` (autocommit), in order."""
    return [
        VersionResult(version, [QueryResult(q, run_query(conn, q)) for q in queries])
        for version, queries in versions.items()
    ]
