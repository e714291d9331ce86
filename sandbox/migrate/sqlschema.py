"""The SQL-level schema that both sides of a diff are turned into.

A Prisma schema is *calculated* into this model (sandbox.prisma.calculate) and a live database is
*introspected* into it (sandbox.migrate.introspect); the differ compares two of them. Names and types
are the ones PostgreSQL stores, spelled the way Prisma renders them, so that comparison is equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DefaultKind = Literal["sequence", "now", "literal", "expression"]
ReferentialAction = Literal["CASCADE", "RESTRICT", "NO ACTION", "SET NULL", "SET DEFAULT"]


@dataclass(frozen=True)
class ColumnDefault:
    """`sequence`: SERIAL/BIGSERIAL; `now`: CURRENT_TIMESTAMP; `literal`: SQL literal text as rendered
    (`'USER'`, `0`, `true`, `'hello'`); `expression`: any other SQL expression (dbgenerated)."""

    kind: DefaultKind
    sql: str = ""


@dataclass
class Column:
    name: str
    # Rendered type as Prisma writes it: TEXT, INTEGER, BIGINT, DOUBLE PRECISION, DECIMAL(65,30),
    # BOOLEAN, TIMESTAMP(3), TIMESTAMPTZ(3), JSONB, BYTEA, VARCHAR(50), UUID, ...; for an enum the enum
    # name (rendered quoted). `SERIAL`/`BIGSERIAL` are not types here: see `default.kind == "sequence"`.
    type: str
    nullable: bool = True
    default: ColumnDefault | None = None
    is_enum: bool = False
    is_array: bool = False


@dataclass
class PrimaryKey:
    name: str
    columns: list[str]


@dataclass
class Index:
    name: str
    columns: list[str]
    unique: bool = False


@dataclass
class ForeignKey:
    name: str
    columns: list[str]
    referenced_table: str
    referenced_columns: list[str]
    on_delete: ReferentialAction = "RESTRICT"
    on_update: ReferentialAction = "CASCADE"


@dataclass
class Table:
    name: str
    columns: list[Column] = field(default_factory=list)
    primary_key: PrimaryKey | None = None
    indexes: list[Index] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class Enum:
    name: str
    values: list[str]


@dataclass
class SqlSchema:
    """Tables and enums in declaration order (Prisma renders CREATE statements in schema order)."""

    tables: list[Table] = field(default_factory=list)
    enums: list[Enum] = field(default_factory=list)
    # "public" when read from a database (introspect), None when calculated from a Prisma schema: Prisma
    # qualifies a few statements of its enum rewrite with the schema only when the old side was introspected.
    namespace: str | None = None

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)

    def enum(self, name: str) -> Enum | None:
        return next((e for e in self.enums if e.name == name), None)
