"""Looking for a statement in migration SQL on PostgreSQL's own parse tree (pglast), never on its text:
a string, a comment or a quoted name cannot look like a statement, and any spelling of one matches.

A shape is a node type (`IndexStmt`, `RenameStmt`, `AlterTableStmt`, …) and fields its tree must have:
`{concurrent: true}`, `{renameType: OBJECT_COLUMN, subname: name, newname: fullName}`,
`{relation.relname: User}`. A dotted path walks into nested nodes; through a list it matches when any
item matches (`cmds.subtype: AT_DropColumn`). Enum fields compare by name.
"""

from __future__ import annotations

from typing import Any

import pglast
from pglast import ast


def node_problem(node: Any) -> str | None:
    if not isinstance(node, str) or not isinstance(getattr(ast, node, None), type):
        return f"`node: {node}` is not a pglast node type (e.g. IndexStmt, RenameStmt, AlterTableStmt)"
    return None


def _statements(sql: str) -> list[dict]:
    try:
        return [raw.stmt(depth=None) for raw in pglast.parse_sql(sql) if raw.stmt is not None]
    except pglast.parser.ParseError:
        return []


def _matches(tree: Any, path: list[str], want: Any) -> bool:
    if isinstance(tree, (tuple, list)):
        return any(_matches(item, path, want) for item in tree)
    if not path:
        if isinstance(tree, dict) and "#" in tree:  # an enum value
            tree = tree.get("name")
        return tree == want or (isinstance(want, str) and str(tree) == want)
    if not isinstance(tree, dict) or path[0] not in tree:
        return False
    return _matches(tree[path[0]], path[1:], want)


def _walk(tree: Any):
    """Every node of the tree (statements nested in others, e.g. in CREATE SCHEMA, included)."""
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _walk(value)
    elif isinstance(tree, (tuple, list)):
        for item in tree:
            yield from _walk(item)


def find(sql: str, node: str, where: dict) -> bool:
    for statement in _statements(sql):
        for candidate in _walk(statement):
            if candidate.get("@") == node and all(
                _matches(candidate, str(key).split("."), value) for key, value in where.items()
            ):
                return True
    return False


