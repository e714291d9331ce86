"""The SQL-level schema that both sides of a diff are turned into.

A Prisma schema is *calculated* into this model (sandbox.prisma.calculate) and a live database is
*introspected* into it (sandbox.migrate.introspection); the differ compares two of them. Names and types
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
    enum_schema: str | None = None  # the database schema of the enum type, None for the default one


@dataclass
class PrimaryKey:
    name: str
    columns: list[str]


@dataclass
class Index:
    name: str
    columns: list[str]
    unique: bool = False
    # Per column (empty: none given): "ASC"/"DESC" as written (None: not given, which is ASC), and an
    # operator class by its SQL name (None: the type's default).
    sorts: list[str | None] = field(default_factory=list)
    opclasses: list[str | None] = field(default_factory=list)
    algorithm: str | None = None  # HASH, GIN, GIST, SPGIST, BRIN; None (or BTREE) is PostgreSQL's btree

    def sort(self, position: int) -> str | None:
        return self.sorts[position] if position < len(self.sorts) else None

    def opclass(self, position: int) -> str | None:
        return self.opclasses[position] if position < len(self.opclasses) else None

    def same_shape(self, other: Index) -> bool:
        """What Prisma's differ compares: a difference here is a drop and a create, not a rename."""
        if self.columns != other.columns or self.unique != other.unique:
            return False
        if (self.algorithm or "BTREE") != (other.algorithm or "BTREE"):
            return False
        return all(
            (self.sort(i) or "ASC") == (other.sort(i) or "ASC")
            and _non_default(self.opclass(i)) == _non_default(other.opclass(i))
            for i in range(len(self.columns))
        )


# Operator classes PostgreSQL uses when none is named (its catalog marks them default): naming one is
# no change, as Prisma compares them (the catalog reads them back as the default).
_MINMAX_DEFAULT = (
    "bit varbit bpchar bytea date float4 float8 int2 int4 int8 numeric oid text timestamp timestamptz"
)
DEFAULT_OPCLASSES = {"jsonb_ops", "array_ops", "text_ops", "inet_inclusion_ops", "int2_ops", "int4_ops"} | {
    f"{t}_minmax_ops" for t in (*_MINMAX_DEFAULT.split(), "time", "timetz", "uuid")
}


def _non_default(opclass: str | None) -> str | None:
    return None if opclass in DEFAULT_OPCLASSES else opclass


@dataclass
class ForeignKey:
    name: str
    columns: list[str]
    referenced_table: str
    referenced_columns: list[str]
    on_delete: ReferentialAction = "RESTRICT"
    on_update: ReferentialAction = "CASCADE"
    referenced_schema: str | None = None


@dataclass
class Table:
    name: str
    columns: list[Column] = field(default_factory=list)
    primary_key: PrimaryKey | None = None
    indexes: list[Index] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    # The database schema (multi-schema `@@schema`); None for the default one (`public`), which Prisma
    # leaves unqualified in its SQL while it qualifies every other.
    schema: str | None = None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class Enum:
    name: str
    values: list[str]
    schema: str | None = None


@dataclass
class Extension:
    """A PostgreSQL extension (`extensions = [citext]` with the postgresqlExtensions preview feature)."""

    name: str
    schema: str | None = None
    version: str | None = None


@dataclass
class SqlSchema:
    """Tables and enums in declaration order (Prisma renders CREATE statements in schema order)."""

    tables: list[Table] = field(default_factory=list)
    enums: list[Enum] = field(default_factory=list)
    extensions: list[Extension] = field(default_factory=list)
    # "public" when read from a database (introspect), None when calculated from a Prisma schema: Prisma
    # qualifies a few statements of its enum rewrite with the schema only when the old side was introspected.
    namespace: str | None = None
    # The database schemas that exist on this side (Prisma writes CREATE SCHEMA for one that holds objects
    # of the target and is missing here). None: only the default one. A calculated schema has the
    # datasource's `schemas` (or the default one without them); an introspected one those of them the
    # database has; empty (`--from-empty`): none.
    namespaces: list[str] | None = None
    # The database schemas to read when introspecting for this schema (the datasource's `schemas`).
    listed: list[str] = field(default_factory=lambda: [DEFAULT_SCHEMA])
    # The datasource's `schemas` as written (multi-schema); empty when not set.
    declared: list[str] = field(default_factory=list)

    def table(self, name: str, schema: str | None = None) -> Table | None:
        return next((t for t in self.tables if t.name == name and t.schema == schema), None)

    def enum(self, name: str, schema: str | None = None) -> Enum | None:
        return next((e for e in self.enums if e.name == name and e.schema == schema), None)

    def existing_namespaces(self) -> set[str]:
        return {DEFAULT_SCHEMA} if self.namespaces is None else set(self.namespaces)


DEFAULT_SCHEMA = "public"


def schema_name(schema: str | None) -> str:
    """The real name of a database schema (None is the default one)."""
    return DEFAULT_SCHEMA if schema is None else schema


def schema_key(name: str) -> str | None:
    return None if name == DEFAULT_SCHEMA else name
