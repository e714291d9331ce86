"""The Prisma Schema Language subset that learners edit: parse, validate, format, calculate SQL.

parse_schema(text) -> PrismaSchema        (raises SchemaError with every problem found)
to_sql_schema(text_or_schema) -> SqlSchema (what Prisma Migrate would create on PostgreSQL)
format_schema(text) -> str                 (Prisma's layout; idempotent)
"""

from __future__ import annotations

from sandbox.prisma.ast import ConfigBlock, Enum, EnumValue, Field, Model, PrismaSchema, Relation
from sandbox.prisma.calculate import to_sql_schema
from sandbox.prisma.errors import Diagnostic, SchemaError
from sandbox.prisma.format import format_schema
from sandbox.prisma.parser import parse_syntax
from sandbox.prisma.validate import validate


def parse_schema(text: str) -> PrismaSchema:
    """Parse and validate; syntax errors are reported first, since validating a broken tree would
    only add consequences of them."""
    schema, diagnostics = parse_syntax(text)
    if not diagnostics:
        diagnostics = validate(schema)
    if diagnostics:
        raise SchemaError(diagnostics)
    return schema


__all__ = [
    "ConfigBlock",
    "Diagnostic",
    "Enum",
    "EnumValue",
    "Field",
    "Model",
    "PrismaSchema",
    "Relation",
    "SchemaError",
    "format_schema",
    "parse_schema",
    "to_sql_schema",
]
