"""Scalar types, PostgreSQL native types (`@db.*`) and the SQL type each one gives."""

from __future__ import annotations

from dataclasses import dataclass

SCALAR_SQL = {
    "String": "TEXT",
    "Int": "INTEGER",
    "BigInt": "BIGINT",
    "Float": "DOUBLE PRECISION",
    "Decimal": "DECIMAL(65,30)",
    "Boolean": "BOOLEAN",
    "DateTime": "TIMESTAMP(3)",
    "Json": "JSONB",
    "Bytes": "BYTEA",
}
SCALARS = tuple(SCALAR_SQL)


@dataclass(frozen=True)
class NativeType:
    scalar: str  # the Prisma scalar it may annotate
    sql: str  # SQL name; arguments are appended in parentheses when given
    max_args: int = 0
    exact_args: bool = False  # Decimal takes both precision and scale, or nothing


NATIVE_TYPES = {
    "Text": NativeType("String", "TEXT"),
    "VarChar": NativeType("String", "VARCHAR", 1),
    "Char": NativeType("String", "CHAR", 1),
    "Uuid": NativeType("String", "UUID"),
    "Inet": NativeType("String", "INET"),
    "Citext": NativeType("String", "CITEXT"),
    "Xml": NativeType("String", "XML"),
    "SmallInt": NativeType("Int", "SMALLINT"),
    "Integer": NativeType("Int", "INTEGER"),
    "BigInt": NativeType("BigInt", "BIGINT"),
    "Real": NativeType("Float", "REAL"),
    "DoublePrecision": NativeType("Float", "DOUBLE PRECISION"),
    "Decimal": NativeType("Decimal", "DECIMAL", 2, exact_args=True),
    "Money": NativeType("Decimal", "MONEY"),
    "Boolean": NativeType("Boolean", "BOOLEAN"),
    "Timestamp": NativeType("DateTime", "TIMESTAMP", 1),
    "Timestamptz": NativeType("DateTime", "TIMESTAMPTZ", 1),
    "Date": NativeType("DateTime", "DATE"),
    "Time": NativeType("DateTime", "TIME", 1),
    "Timetz": NativeType("DateTime", "TIMETZ", 1),
    "Json": NativeType("Json", "JSON"),
    "JsonB": NativeType("Json", "JSONB"),
    "ByteA": NativeType("Bytes", "BYTEA"),
}


def native_sql(name: str, args: list[int]) -> str:
    native = NATIVE_TYPES[name]
    return f"{native.sql}({','.join(str(a) for a in args)})" if args else native.sql
