"""Prisma's human-readable summary of a migration (`migrate diff` without `--script`, drift messages)."""

from __future__ import annotations

from collections.abc import Sequence

from sandbox.migrate.sqlschema import Column, ColumnDefault
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
)

# Section kinds in the order Prisma prints them (DriftType in sql_migration.rs).
(
    ADDED_SCHEMA,
    ADDED_EXTENSION,
    ADDED_ENUM,
    ADDED_TABLE,
    REMOVED_ENUM,
    REMOVED_TABLE,
    CHANGED_ENUM,
    CHANGED_TABLE,
) = range(8)
HEADERS = {
    ADDED_SCHEMA: "[+] Added Schemas",
    ADDED_EXTENSION: "[+] Added extensions",
    ADDED_ENUM: "[+] Added enums",
    ADDED_TABLE: "[+] Added tables",
    REMOVED_ENUM: "[-] Removed enums",
    REMOVED_TABLE: "[-] Removed tables",
}
NO_DIFFERENCE = "No difference detected."


def summarize(steps: list[Step]) -> list[str]:
    """Lines of Prisma's summary; joined with newlines they give its text without the leading blank line."""
    if not steps:
        return [NO_DIFFERENCE]
    items = sorted((*_section(step), i) for i, step in enumerate(steps))
    lines: list[str] = []
    state: tuple[int, str] | None = None
    for kind, name, index in items:
        if state != (kind, name):
            lines += ["", _header(kind, name)]
            state = (kind, name)
        lines += _lines(steps[index])
    return lines[1:]


def _section(step: Step) -> tuple[int, str]:
    if isinstance(step, CreateExtension):
        return ADDED_EXTENSION, step.extension.name  # Prisma heads each extension on its own
    if isinstance(step, CreateEnum):
        return ADDED_ENUM, ""
    if isinstance(step, CreateTable):
        return ADDED_TABLE, ""
    if isinstance(step, DropEnum):
        return REMOVED_ENUM, ""
    if isinstance(step, DropTable):
        return REMOVED_TABLE, ""
    if isinstance(step, AlterEnum):
        return CHANGED_ENUM, step.before.name
    if isinstance(step, CreateSchema):
        return ADDED_SCHEMA, ""
    return CHANGED_TABLE, step.table


def _header(kind: int, name: str) -> str:
    if kind == CHANGED_ENUM:
        return f"[*] Changed the `{name}` enum"
    if kind == CHANGED_TABLE:
        return f"[*] Changed the `{name}` table"
    if kind == ADDED_EXTENSION:
        return HEADERS[kind]
    return HEADERS[kind]


def _lines(step: Step) -> list[str]:  # noqa: C901 - one branch per kind of step
    if isinstance(step, CreateSchema):
        return [f"  - {step.name}"]
    if isinstance(step, CreateExtension):
        return [f"  - {step.extension.name}"]
    if isinstance(step, CreateEnum | DropEnum):
        return [f"  - {step.enum.name}"]
    if isinstance(step, CreateTable | DropTable):
        return [f"  - {step.table.name}"]
    if isinstance(step, AlterEnum):
        return [f"  [+] Added variant `{v}`" for v in step.added] + [
            f"  [-] Removed variant `{v}`" for v in step.removed
        ]
    if isinstance(step, DropForeignKey):
        return [f"  [-] Removed foreign key on columns ({', '.join(step.foreign_key.columns)})"]
    if isinstance(step, AddForeignKey):
        return [f"  [+] Added foreign key on columns ({', '.join(step.foreign_key.columns)})"]
    if isinstance(step, DropIndex | CreateIndex):
        sign, verb = ("-", "Removed") if isinstance(step, DropIndex) else ("+", "Added")
        unique = "unique " if step.index.unique else ""
        return [f"  [{sign}] {verb} {unique}index on columns ({', '.join(step.index.columns)})"]
    if isinstance(step, RenameIndex):
        return [f"  [*] Renamed index `{step.old_name}` to `{step.new_name}`"]
    if isinstance(step, RenameForeignKey):
        return [f'  [*] Renamed the foreign key "{step.old_name}" to "{step.new_name}"']
    if isinstance(step, AlterTable):
        return [line for change in step.changes for line in _table_change(step, change)]
    return []


def _table_change(step: AlterTable, change: object) -> list[str]:
    if isinstance(change, AddColumn):
        return [f"  [+] Added column `{change.column.name}`"]
    if isinstance(change, DropColumn):
        return [f"  [-] Removed column `{change.column.name}`"]
    if isinstance(change, AlterColumn):
        described = _describe(change.before, change.after, change.changes)
        return [f"  [*] Altered column `{change.after.name}` ({described})"]
    if isinstance(change, DropAndRecreateColumn):
        described = _describe(change.before, change.after, change.changes)
        return [f"  [*] Column `{change.after.name}` would be dropped and recreated ({described})"]
    if isinstance(change, DropPrimaryKey):
        return [f"  [-] Dropped the primary key on columns ({', '.join(change.primary_key.columns)})"]
    if isinstance(change, RenamePrimaryKey):
        return [f"  [*] Renamed the primary key on columns ({', '.join(change.columns)})"]
    if isinstance(change, AddPrimaryKey):
        # Prisma prints a stray ")" line after this one; kept so that summaries compare equal.
        return [f"  [+] Added primary key on columns ({', '.join(change.primary_key.columns)})", ")"]
    return []


def _describe(old: Column, new: Column, changes: Sequence[str]) -> str:
    parts = []
    for kind in changes:
        if kind == "arity":
            parts.append(f"changed from {_arity(old)} to {_arity(new)}")
        elif kind == "default":
            parts.append(f"default changed from `{_default_debug(old)}` to `{_default_debug(new)}`")
        elif kind == "type":
            parts.append("type changed")
        elif kind == "autoincrement":
            seq = old.default is not None and old.default.kind == "sequence"
            parts.append("column is no longer autoincrementing" if seq else "column became autoincrementing")
    return ", ".join(parts)


def _arity(column: Column) -> str:
    return "List" if column.is_array else ("Nullable" if column.nullable else "Required")


def _default_debug(column: Column) -> str:
    """Rust's Debug text of Prisma's DefaultKind (`Some(Value(Int(7)))`, `Some(Now)`, `None`)."""
    default: ColumnDefault | None = column.default
    if default is None:
        return "None"
    if default.kind == "now":
        return "Some(Now)"
    if default.kind == "sequence":
        return f'Some(Sequence("{default.sql}"))'
    if default.kind == "expression":
        return f'Some(DbGenerated(Some("{default.sql}")))'
    return f"Some(Value({_value_debug(column, default.sql)}))"


def _value_debug(column: Column, sql: str) -> str:
    text = sql[1:-1].replace("''", "'") if sql.startswith("'") and sql.endswith("'") else sql
    if column.is_enum:
        return f'Enum("{text}")'
    if column.type in ("INTEGER", "SMALLINT"):
        return f"Int({text})"
    if column.type == "BIGINT":
        return f"BigInt({text})"
    if column.type == "BOOLEAN":
        return f"Boolean({text})"
    if column.type in ("JSON", "JSONB"):
        return f'Json("{text}")'
    if column.type in ("DOUBLE PRECISION", "REAL") or column.type.startswith("DECIMAL"):
        return f"Float(BigDecimal({text!r}))".replace("'", '"')
    return f'String("{text}")'
