"""Render steps as the PostgreSQL script Prisma Migrate writes (`migrate diff --script`, `migration.sql`)."""

from __future__ import annotations

from sandbox.migrate.sqlschema import Column, ForeignKey, Index, Table
from sandbox.migrate.steps import (
    AddColumn,
    AddForeignKey,
    AddPrimaryKey,
    AlterColumn,
    AlterEnum,
    AlterTable,
    CreateEnum,
    CreateExtension,
    CreateIndex,
    CreateSchema,
    CreateTable,
    DropAndRecreateColumn,
    DropColumn,
    DropEnum,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropTable,
    RenameForeignKey,
    RenameIndex,
    RenamePrimaryKey,
    Step,
    section_name,
)
from sandbox.migrate.summary import summarize

__all__ = ["EMPTY_MIGRATION", "render_script", "render_step", "summarize"]

EMPTY_MIGRATION = "-- This is an empty migration."
INDENT = "    "
SERIAL = {"INTEGER": "SERIAL", "BIGINT": "BIGSERIAL", "SMALLINT": "SMALLSERIAL"}
MANY_ENUM_VALUES_NOTE = (
    "-- This migration adds more than one value to an enum.\n"
    "-- With PostgreSQL versions 11 and earlier, this is not possible\n"
    "-- in a single migration. This can be worked around by creating\n"
    "-- multiple migrations, each migration adding only one value to\n"
    "-- the enum.\n"
)


def render_script(
    steps: list[Step], create_schema: bool = False, schema: str = "public", qualify_drops: bool = False
) -> str:
    """The whole script; `create_schema=True` adds the preamble of `migrate diff --from-empty`, and
    `qualify_drops=True` names dropped tables, enums and foreign keys with the schema, as Prisma does for
    `migrate diff --to-empty`."""
    sections = []
    # Prisma writes the CREATE SCHEMA preamble only in front of something to create.
    if create_schema and steps and not any(isinstance(s, CreateSchema) and s.name == schema for s in steps):
        created = [s for s in steps if isinstance(s, CreateSchema)] + [CreateSchema(schema)]
        steps = sorted(created, key=_by_name) + [s for s in steps if not isinstance(s, CreateSchema)]
    for step in steps:
        statements = render_step(step)
        if qualify_drops and isinstance(step, DropTable | DropForeignKey | DropEnum):
            statements = [_qualified_drop(step, schema)]
        if statements:
            sections.append(f"-- {section_name(step)}\n" + "".join(f"{s};\n" for s in statements))
    if not sections:
        return EMPTY_MIGRATION
    return "\n".join(sections)


def _by_name(step: CreateSchema) -> bytes:
    return step.name.encode("utf-8")


def _qualified_drop(step: DropTable | DropForeignKey | DropEnum, schema: str) -> str:
    if isinstance(step, DropTable):
        return f"DROP TABLE {quote(step.table.schema or schema)}.{quote(step.table.name)}"
    if isinstance(step, DropEnum):
        return f"DROP TYPE {quote(step.enum.schema or schema)}.{quote(step.enum.name)}"
    table = f"{quote(step.schema or schema)}.{quote(step.table)}"
    return f"ALTER TABLE {table} DROP CONSTRAINT {quote(step.foreign_key.name)}"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str | None, name: str) -> str:
    """A name in a database schema as Prisma writes it: the default schema (None) stays unqualified."""
    return quote(name) if schema is None else f"{quote(schema)}.{quote(name)}"


def string_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def column_type(column: Column) -> str:
    if column.is_enum:
        base = qualified(column.enum_schema, column.type)
    elif column.default is not None and column.default.kind == "sequence":
        base = SERIAL.get(column.type, column.type)
    else:
        base = column.type
    return base + "[]" if column.is_array else base


def default_sql(column: Column) -> str:
    default = column.default
    if default is None or default.kind == "sequence":
        return ""
    return "CURRENT_TIMESTAMP" if default.kind == "now" else default.sql


def column_definition(column: Column) -> str:
    not_null = " NOT NULL" if not column.nullable and not column.is_array else ""
    default = default_sql(column)
    default_clause = f" DEFAULT {default}" if default else ""
    return f"{INDENT}{quote(column.name)} {column_type(column)}{not_null}{default_clause}"


def columns_list(columns: list[str], sep: str = ", ") -> str:
    return sep.join(quote(c) for c in columns)


def create_table(table: Table) -> str:
    body = ",\n".join(column_definition(c) for c in table.columns)
    if table.primary_key is not None:
        pk = table.primary_key
        body += f",\n\n{INDENT}CONSTRAINT {quote(pk.name)} PRIMARY KEY ({columns_list(pk.columns, ',')})"
    return f"CREATE TABLE {qualified(table.schema, table.name)} (\n{body}\n)"


def create_index(table: str, index: Index, schema: str | None = None) -> str:
    unique = "UNIQUE " if index.unique else ""
    parts = []
    for position, column in enumerate(index.columns):
        opclass, sort = index.opclass(position), index.sort(position)
        parts.append(quote(column) + (f" {opclass}" if opclass else "") + (f" {sort}" if sort else ""))
    using = f" USING {index.algorithm} (" if index.algorithm and index.algorithm != "BTREE" else "("
    on = qualified(schema, table)
    return f"CREATE {unique}INDEX {quote(index.name)} ON {on}{using}{', '.join(parts)})"


def add_foreign_key(table: str, fk: ForeignKey, schema: str | None = None) -> str:
    return (
        f"ALTER TABLE {qualified(schema, table)} ADD CONSTRAINT {quote(fk.name)} "
        f"FOREIGN KEY ({columns_list(fk.columns)}) "
        f"REFERENCES {qualified(fk.referenced_schema, fk.referenced_table)}"
        f"({columns_list(fk.referenced_columns)}) "
        f"ON DELETE {fk.on_delete} ON UPDATE {fk.on_update}"
    )


def render_step(step: Step) -> list[str]:  # noqa: C901 - one branch per kind of step
    if isinstance(step, CreateSchema):
        return [f"CREATE SCHEMA IF NOT EXISTS {quote(step.name)}"]
    if isinstance(step, CreateExtension):
        extension = step.extension
        clause = f" WITH SCHEMA {quote(extension.schema)}" if extension.schema else ""
        if extension.version:
            clause += f"{'' if clause else ' WITH'} VERSION {quote(extension.version)}"
        return [f"CREATE EXTENSION IF NOT EXISTS {quote(extension.name)}{clause}"]
    if isinstance(step, CreateEnum):
        values = ", ".join(string_literal(v) for v in step.enum.values)
        return [f"CREATE TYPE {qualified(step.enum.schema, step.enum.name)} AS ENUM ({values})"]
    if isinstance(step, AlterEnum):
        return _alter_enum(step)
    if isinstance(step, DropForeignKey):
        table = qualified(step.schema, step.table)
        return [f"ALTER TABLE {table} DROP CONSTRAINT {quote(step.foreign_key.name)}"]
    if isinstance(step, DropIndex):
        return [f"DROP INDEX {qualified(step.schema, step.index.name)}"]
    if isinstance(step, AlterTable):
        return _alter_table(step)
    if isinstance(step, DropTable):
        return [f"DROP TABLE {qualified(step.table.schema, step.table.name)}"]
    if isinstance(step, DropEnum):
        return [f"DROP TYPE {qualified(step.enum.schema, step.enum.name)}"]
    if isinstance(step, CreateTable):
        return [create_table(step.table)]
    if isinstance(step, CreateIndex):
        return [create_index(step.table, step.index, step.schema)]
    if isinstance(step, RenameForeignKey):
        renamed = f"RENAME CONSTRAINT {quote(step.old_name)} TO {quote(step.new_name)}"
        return [f"ALTER TABLE {qualified(step.schema, step.table)} {renamed}"]
    if isinstance(step, AddForeignKey):
        return [add_foreign_key(step.table, step.foreign_key, step.schema)]
    if isinstance(step, RenameIndex):
        return [f"ALTER INDEX {qualified(step.schema, step.old_name)} RENAME TO {quote(step.new_name)}"]
    raise TypeError(f"unknown migration step {step!r}")


def _alter_table(step: AlterTable) -> list[str]:
    before: list[str] = []
    clauses: list[str] = []
    after: list[str] = []
    for change in step.changes:
        if isinstance(change, DropPrimaryKey):
            clauses.append(f"DROP CONSTRAINT {quote(change.primary_key.name)}")
        elif isinstance(change, RenamePrimaryKey):
            clauses.append(f"RENAME CONSTRAINT {quote(change.old_name)} TO {quote(change.new_name)}")
        elif isinstance(change, AddPrimaryKey):
            pk = change.primary_key
            clauses.append(f"ADD CONSTRAINT {quote(pk.name)} PRIMARY KEY ({columns_list(pk.columns)})")
        elif isinstance(change, AddColumn):
            clauses.append(f"ADD COLUMN {column_definition(change.column)}")
        elif isinstance(change, DropColumn):
            clauses.append(f"DROP COLUMN {quote(change.column.name)}")
        elif isinstance(change, DropAndRecreateColumn):
            clauses.append(f"DROP COLUMN {quote(change.before.name)}")
            clauses.append(f"ADD COLUMN {column_definition(change.after)}")
        elif isinstance(change, AlterColumn):
            _alter_column(step, change, before, clauses, after)
    if not clauses:
        return []
    return [*before, f"ALTER TABLE {qualified(step.schema, step.table)} " + ",\n".join(clauses), *after]


def _alter_column(
    step: AlterTable, change: AlterColumn, before: list[str], clauses: list[str], after: list[str]
) -> None:
    old, new = change.before, change.after
    prefix = f"ALTER COLUMN {quote(old.name)}"
    set_type = "type" in change.changes
    for kind in change.changes:
        if kind == "default":
            default = default_sql(new)
            clauses.append(
                f"{prefix} SET DEFAULT {default}" if new.default is not None else f"{prefix} DROP DEFAULT"
            )
        elif kind == "arity":
            if old.is_array != new.is_array:
                set_type = True
            if not new.is_array and (old.is_array or old.nullable != new.nullable):
                clauses.append(f"{prefix} {'DROP' if new.nullable else 'SET'} NOT NULL")
        elif kind == "autoincrement":
            if old.default is not None and old.default.kind == "sequence":
                clauses.append(f"{prefix} DROP DEFAULT")
                if not _sequence_still_used(step, old):
                    after.append(f"DROP SEQUENCE {quote(old.default.sql)}")
            else:
                sequence = f"{step.table}_{new.name}_seq".lower()
                if step.schema is not None:  # Prisma quotes the schema only
                    sequence = f"{quote(step.schema)}.{sequence}"
                before.append(f"CREATE SEQUENCE {sequence}")
                clauses.append(f"{prefix} SET DEFAULT nextval({string_literal(sequence)})")
                owner = qualified(step.schema, step.table)
                after.append(f"ALTER SEQUENCE {sequence} OWNED BY {owner}.{quote(new.name)}")
    if set_type:
        # Like Prisma, a SERIAL column keeps its SERIAL spelling here.
        clauses.append(f"{prefix} SET DATA TYPE {column_type(new)}")


def _sequence_still_used(step: AlterTable, old: Column) -> bool:
    if old.default is None:
        return False
    return any(
        sequence == old.default.sql and (table, column) != (step.table, old.name)
        for table, column, sequence in step.sequences
    )


def _alter_enum(step: AlterEnum) -> list[str]:
    schema = step.before.schema
    name = qualified(schema, step.before.name)
    if not step.removed:
        statements = [f"ALTER TYPE {name} ADD VALUE {string_literal(v)}" for v in step.added]
        if len(statements) > 1:
            statements[0] = f"{MANY_ENUM_VALUES_NOTE}\n\n{statements[0]}"
        return statements

    # In the default schema Prisma qualifies the dropped defaults and the old type only when the old side
    # was introspected (`step.namespace`); an enum in another schema is qualified everywhere.
    def dropped(t: tuple[str | None, str]) -> str:
        return qualified(t[0] or step.namespace, t[1])

    new_name = qualified(schema, f"{step.after.name}_new")
    old_name = f"{step.before.name}_old"
    values = ", ".join(string_literal(v) for v in step.after.values)
    statements = ["BEGIN", f"CREATE TYPE {new_name} AS ENUM ({values})"]
    statements += [
        f"ALTER TABLE {dropped(t)} ALTER COLUMN {quote(c)} DROP DEFAULT" for t, c in step.defaults_dropped
    ]
    for table, column, is_array in step.columns:
        suffix = "[]" if is_array else ""
        statements.append(
            f"ALTER TABLE {qualified(*table)} ALTER COLUMN {quote(column)} TYPE {new_name}{suffix} "
            f"USING ({quote(column)}::text::{new_name}{suffix})"
        )
    statements += [
        f"ALTER TYPE {name} RENAME TO {quote(old_name)}",
        f"ALTER TYPE {new_name} RENAME TO {quote(step.after.name)}",
        f"DROP TYPE {qualified(schema or step.namespace, old_name)}",
    ]
    statements += [
        f"ALTER TABLE {qualified(*t)} ALTER COLUMN {quote(c)} SET DEFAULT {d}"
        for t, c, d in step.defaults_reinstalled
    ]
    statements.append("COMMIT")
    return statements
