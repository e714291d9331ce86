"""`app_queries` of an exercise: the queries each version of the application sends, with parameters.

    app_queries:              # a plain list is one version named `app`
      v1:
        - {name: load profile, sql: 'SELECT "id", "name" FROM "User" WHERE "id" = $1', params: [1]}
        - SELECT count(*) FROM "User"         # a bare text: named after its position, $n bound to NULL
"""

from __future__ import annotations

from typing import Any

from sandbox.risk import AppQuery, SqlSyntaxError, split

DEFAULT_VERSION = "app"


def _query(item: Any, where: str, position: int) -> AppQuery:
    if isinstance(item, str):
        item = {"sql": item}
    if not isinstance(item, dict) or not isinstance(item.get("sql"), str) or not item["sql"].strip():
        raise ValueError(f"{where}: query {position} needs `sql`, the text the application sends")
    unknown = sorted(set(item) - {"name", "sql", "params"})
    if unknown:
        raise ValueError(f"{where}: query {position} does not take `{unknown[0]}` (name, sql, params)")
    params = item.get("params") or []
    plain = (str, int, float, bool, type(None))
    if not isinstance(params, list) or not all(isinstance(p, plain) for p in params):
        raise ValueError(f"{where}: `params` of query {position} must be a list of plain values")
    try:
        statements = split(item["sql"])
    except SqlSyntaxError as error:
        raise ValueError(f"{where}: query {position} is not valid SQL: {error}") from None
    if len(statements) != 1:
        raise ValueError(f"{where}: query {position} must be exactly one statement")
    return AppQuery(str(item.get("name") or f"query {position}"), item["sql"].strip(), tuple(params))


def parse_app_queries(value: Any) -> dict[str, list[AppQuery]]:
    """version -> queries; raises ValueError with a sentence for the author."""
    if value is None or value == []:
        return {}
    versions = {DEFAULT_VERSION: value} if isinstance(value, list) else value
    if not isinstance(versions, dict):
        raise ValueError("`app_queries` is a list of queries, or versions each with a list of queries")
    parsed: dict[str, list[AppQuery]] = {}
    for version, queries in versions.items():
        if not isinstance(version, str) or not version.strip():
            raise ValueError("an `app_queries` version name must be a word (YAML reads yes/no as booleans)")
        if not isinstance(queries, list) or not queries:
            raise ValueError(f"`app_queries` version `{version}` needs a list of queries")
        parsed[version] = [_query(item, f"`app_queries` {version}", n) for n, item in enumerate(queries, 1)]
    return parsed
