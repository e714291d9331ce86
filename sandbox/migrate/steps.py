"""Migration steps: one per section of Prisma's migration script (`-- CreateTable`, `-- AlterTable`, ...).

They mirror the variants of Prisma's `SqlMigrationStep`, so that their order, their section comments, the
step numbers in warnings ("Step 0 ...") and the drift summary come out as Prisma's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sandbox.migrate.sqlschema import Column, Enum, Extension, ForeignKey, Index, PrimaryKey, Table

# How risky a column type change is (Prisma's ColumnTypeChange).
TypeChange = Literal["safe", "risky", "not_castable"]
# What differs between two versions of a column (Prisma's ColumnChange).
ColumnChangeKind = Literal["type", "arity", "default", "autoincrement"]


# --- changes inside one ALTER TABLE -------------------------------------------------------------
@dataclass
class DropPrimaryKey:
    primary_key: PrimaryKey


@dataclass
class RenamePrimaryKey:
    old_name: str
    new_name: str
    columns: list[str]


@dataclass
class DropColumn:
    column: Column


@dataclass
class AddColumn:
    column: Column


@dataclass
class AlterColumn:
    before: Column
    after: Column
    changes: list[ColumnChangeKind]
    type_change: TypeChange | None = None


@dataclass
class DropAndRecreateColumn:
    before: Column
    after: Column
    changes: list[ColumnChangeKind]


@dataclass
class AddPrimaryKey:
    primary_key: PrimaryKey


TableChange = (
    DropPrimaryKey
    | RenamePrimaryKey
    | DropColumn
    | AddColumn
    | AlterColumn
    | DropAndRecreateColumn
    | AddPrimaryKey
)


# --- steps (sections of the script) -------------------------------------------------------------
@dataclass
class CreateEnum:
    enum: Enum


@dataclass
class CreateExtension:
    """Prisma only creates extensions: one removed from the list, or given another version or schema,
    is left as it is."""

    extension: Extension


@dataclass
class AlterEnum:
    before: Enum
    after: Enum
    added: list[str]
    removed: list[str]
    # Statements of Prisma's enum rewrite (only used when values are removed), tables as (schema, name):
    # (table, column) pairs whose enum default is dropped first, and re-set to `default_after` if any.
    defaults_dropped: list[tuple[tuple[str | None, str], str]] = field(default_factory=list)
    defaults_reinstalled: list[tuple[tuple[str | None, str], str, str]] = field(default_factory=list)
    # (table, column, is_array) of every column of the target schema typed with the enum.
    columns: list[tuple[tuple[str | None, str], str, bool]] = field(default_factory=list)
    namespace: str | None = None


@dataclass
class CreateSchema:
    """`CREATE SCHEMA IF NOT EXISTS`: a database schema that holds objects of the target and is missing."""

    name: str


@dataclass
class DropForeignKey:
    table: str
    foreign_key: ForeignKey
    schema: str | None = None


@dataclass
class DropIndex:
    table: str
    index: Index
    schema: str | None = None


@dataclass
class AlterTable:
    table: str
    changes: list[TableChange]
    # Rows of the target table matter for warnings; the full tables let checks see columns and keys.
    before: Table | None = None
    after: Table | None = None
    # (table, column, sequence) of every column of the target schema that uses a sequence: Prisma keeps a
    # sequence that another column of the schema still uses.
    sequences: list[tuple[str, str, str]] = field(default_factory=list)
    schema: str | None = None


@dataclass
class DropTable:
    table: Table


@dataclass
class DropEnum:
    enum: Enum


@dataclass
class CreateTable:
    table: Table


@dataclass
class CreateIndex:
    table: str
    index: Index
    on_new_table: bool = False
    # Re-created because a column it covers is dropped and re-added (no unique-constraint warning then).
    after_recreate: bool = False
    schema: str | None = None


@dataclass
class RenameForeignKey:
    table: str
    old_name: str
    new_name: str
    schema: str | None = None


@dataclass
class AddForeignKey:
    table: str
    foreign_key: ForeignKey
    schema: str | None = None


@dataclass
class RenameIndex:
    table: str
    old_name: str
    new_name: str
    schema: str | None = None


Step = (
    CreateSchema
    | CreateExtension
    | CreateEnum
    | AlterEnum
    | DropForeignKey
    | DropIndex
    | AlterTable
    | DropTable
    | DropEnum
    | CreateTable
    | CreateIndex
    | RenameForeignKey
    | AddForeignKey
    | RenameIndex
)

# Prisma sorts steps by variant first, in this order (sql_migration.rs).
STEP_ORDER: tuple[type, ...] = (
    CreateSchema,
    CreateExtension,
    CreateEnum,
    AlterEnum,
    DropForeignKey,
    DropIndex,
    AlterTable,
    DropTable,
    DropEnum,
    CreateTable,
    CreateIndex,
    RenameForeignKey,
    AddForeignKey,
    RenameIndex,
)


def section_name(step: Step) -> str:
    """The `-- Name` comment Prisma writes above the step's statements."""
    return type(step).__name__
