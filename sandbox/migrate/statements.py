"""Split a migration script into statements the way Prisma 7.10.1's schema engine does.

Since prisma-engines #5767 (and #5799 for the shadow database), the PostgreSQL connector parses a script
with a SQL parser and sends each statement as its own simple-protocol query, so each one commits on its
own (`CREATE INDEX CONCURRENTLY` may stand beside other statements, and a failure in the middle leaves the
earlier statements applied). When the parser cannot read the script, the whole script goes as one batch,
which PostgreSQL runs as one implicit transaction.

Prisma's parser is sqlparser-rs; ours is PostgreSQL's own (pglast). They agree on what PostgreSQL accepts
except where sqlparser lags, and the one lag that changes what a learner sees is kept on purpose:
sqlparser (up to 0.62, shipped with 7.10.1) cannot read `DROP INDEX CONCURRENTLY` (prisma-engines #5847,
open), so a script holding one is sent as a single batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from pglast import ast
from pglast.parser import ParseError, parse_sql


@dataclass(frozen=True)
class Statement:
    """One piece of a script as it is sent: its text (with the comments before it) and where it starts."""

    text: str
    offset: int  # index of the piece's first character in the script


def split_statements(script: str) -> list[Statement] | None:
    """The pieces Prisma 7.10.1 sends one by one, or None when it sends the whole script as one batch.

    Each piece runs from the end of the previous statement's `;` to the end of its own `;`, so a comment
    stays with the statement that follows it. A script that does not parse, or that the engine's
    parser cannot read (`DROP INDEX CONCURRENTLY`), gives None. A script with no statement at all (only
    comments) gives an empty list.
    """
    try:
        raw_statements = parse_sql(script)
    except ParseError:
        return None
    if any(_engine_parser_cannot_read(raw.stmt) for raw in raw_statements):
        return None
    # pglast gives locations in characters of `script` (it converts PostgreSQL's byte offsets).
    pieces: list[Statement] = []
    start = 0
    for index, raw in enumerate(raw_statements):
        last = index == len(raw_statements) - 1
        end = (raw.stmt_location or 0) + (raw.stmt_len or 0)
        if end < len(script) and script[end] == ";":
            end += 1
        if last:
            end = len(script)  # trailing whitespace and comments go with the last statement
        pieces.append(Statement(script[start:end], start))
        start = end
    return pieces


def _engine_parser_cannot_read(statement: ast.Node | None) -> bool:
    return isinstance(statement, ast.DropStmt) and bool(statement.concurrent)
