"""A migration file split into statements with PostgreSQL's own parser (pglast), positions kept."""

from __future__ import annotations

from dataclasses import dataclass

import pglast
from pglast import ast
from pglast.parser import ParseError


class SqlSyntaxError(Exception):
    """The file does not parse: PostgreSQL's message with the line and column (1-based) it points at."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(f"{message} at line {line}, column {column}")
        self.message, self.line, self.column = message, line, column


@dataclass(frozen=True)
class Statement:
    index: int  # 1-based position in the file
    line: int  # 1-based line where the statement starts
    start: int  # character offsets of the statement in the file
    end: int
    sql: str
    node: ast.Node | None


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def split(text: str) -> list[Statement]:
    try:
        parsed = pglast.parse_sql(text)
    except ParseError as error:
        message, offset = error.args[0], error.args[1] if len(error.args) > 1 else 0
        line, column = line_column(text, min(int(offset), len(text)))
        raise SqlSyntaxError(str(message), line, column) from None
    statements: list[Statement] = []
    for raw, piece in zip(parsed, pglast.parser.split(text, with_parser=True, only_slices=True), strict=True):
        start, end = piece.start or 0, piece.stop if piece.stop is not None else len(text)
        line, _ = line_column(text, start)
        statements.append(Statement(len(statements) + 1, line, start, end, text[start:end], raw.stmt))
    return statements


def statement_at(statements: list[Statement], offset: int) -> Statement | None:
    """The statement whose text covers `offset` (or the next one, for a position between two)."""
    for statement in statements:
        if offset < statement.end:
            return statement
    return statements[-1] if statements else None
