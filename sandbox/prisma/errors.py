"""Diagnostics: what is wrong in a schema, where, in one sentence."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """1-based, end exclusive: `end_column` is the column just after the last character."""

    line: int
    column: int
    end_line: int
    end_column: int

    def to(self, other: Span) -> Span:
        return Span(self.line, self.column, other.end_line, other.end_column)


@dataclass(frozen=True)
class Diagnostic:
    line: int
    column: int
    end_line: int
    end_column: int
    message: str

    @classmethod
    def at(cls, span: Span, message: str) -> Diagnostic:
        return cls(span.line, span.column, span.end_line, span.end_column, message)

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class SchemaError(ValueError):
    """Raised for a schema that cannot be parsed or does not validate; lists every problem found."""

    def __init__(self, diagnostics: list[Diagnostic], path: str | None = None):
        self.path = path  # the schema file's name, for messages (None: `schema.prisma`)
        self.diagnostics = sorted(set(diagnostics), key=lambda d: (d.line, d.column, d.message))
        super().__init__("\n".join(str(d) for d in self.diagnostics))
