"""Compare two SqlSchemas and list the steps that turn one into the other, in Prisma's order.

A model-to-model differ, like Prisma's own (sql_schema_differ): tables, columns and enums are matched by
name, indexes and foreign keys by what they cover (so a new `map:` name is a rename, new actions are a
drop and an add), and the steps are sorted by kind and then by the position of the objects in their
schema, which is what makes the text identical to Prisma's.
"""

from __future__ import annotations

from typing import Any, Protocol

from sandbox.migrate import casts
from sandbox.migrate.default_values import defaults_match
from sandbox.migrate.sqlschema import Column, ForeignKey, Index, SqlSchema, Table, schema_name
from sandbox.migrate.steps import (
    STEP_ORDER,
    AddColumn,
    AddForeignKey,
    AddPrimaryKey,
    AlterColumn,
    AlterEnum,
    AlterTable,
    ColumnChangeKind,
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
    TableChange,
    TypeChange,
)

IGNORED_TABLES = {"_prisma_migrations"}
Sequences = list[tuple[str, str, str]]  # (table, column, sequence name) of every serial column after


class _Add(Protocol):
    """Adds a step, sorted by its kind and then by `key` (positions in the schemas)."""

    def __call__(self, step: Step, *key: object) -> None: ...


# Sort keys use positions; `None` (no previous table) sorts before any position, as in Prisma.
_NONE = -1


def diff_schemas(before: SqlSchema, after: SqlSchema) -> list[Step]:
    keyed: list[tuple[tuple[Any, ...], Step]] = []

    def add(step: Step, *key: object) -> None:
        keyed.append(((STEP_ORDER.index(type(step)), *key), step))

    before_tables = [t for t in before.tables if not _ignored(t)]
    after_tables = [t for t in after.tables if not _ignored(t)]
    b_pos = {_key(t): i for i, t in enumerate(before_tables)}
    a_pos = {_key(t): i for i, t in enumerate(after_tables)}

    existing = before.existing_namespaces()
    holding = {schema_name(t.schema) for t in after_tables} | {schema_name(e.schema) for e in after.enums}
    for name in sorted(holding - existing, key=lambda n: n.encode("utf-8")):
        add(CreateSchema(name), name.encode("utf-8"))

    for table in after_tables:
        if _key(table) in b_pos:
            continue
        ti = a_pos[_key(table)]
        add(CreateTable(table), ti)
        for fi, fk in enumerate(table.foreign_keys):
            add(AddForeignKey(table.name, fk, table.schema), ti, fi)
        for ii, index in enumerate(table.indexes):
            add(CreateIndex(table.name, index, on_new_table=True, schema=table.schema), _NONE, ti, ii, 0)

    for table in before_tables:
        if _key(table) in a_pos:
            continue
        ti = b_pos[_key(table)]
        add(DropTable(table), ti)
        for fi, fk in enumerate(table.foreign_keys):
            add(DropForeignKey(table.name, fk, table.schema), ti, fi)

    sequences = [
        (t.name, c.name, c.default.sql)
        for t in after_tables
        for c in t.columns
        if c.default is not None and c.default.kind == "sequence"
    ]
    for old in before_tables:
        new = after.table(old.name, old.schema)
        if new is None:
            continue
        _diff_table(old, new, (b_pos[_key(old)], a_pos[_key(new)]), add, sequences)

    _diff_enums(before, after, before_tables, add)
    known = {e.name for e in before.extensions}
    for extension in sorted(after.extensions, key=lambda e: e.name.encode("utf-8")):
        if extension.name not in known:
            add(CreateExtension(extension), extension.name.encode("utf-8"))

    keyed.sort(key=lambda pair: pair[0])
    return [step for _, step in keyed]


def _key(table: Table) -> tuple[str | None, str]:
    return table.schema, table.name


def _ignored(table: Table) -> bool:
    return table.schema is None and table.name in IGNORED_TABLES


def _diff_table(old: Table, new: Table, pos: tuple[int, int], add: _Add, sequences: Sequences) -> None:
    bt, at = pos
    schema = new.schema
    old_fks, new_fks = list(enumerate(old.foreign_keys)), list(enumerate(new.foreign_keys))
    matched_fks: list[tuple[int, ForeignKey, int, ForeignKey]] = []
    for ni, nfk in new_fks:
        match = next(
            (
                o
                for o in old_fks
                if _fks_match(o[1], nfk, old, new) and o[0] not in {m[0] for m in matched_fks}
            ),
            None,
        )
        if match is None:
            add(AddForeignKey(new.name, nfk, schema), at, ni)
        else:
            matched_fks.append((match[0], match[1], ni, nfk))
    for oi, ofk in old_fks:
        if oi not in {m[0] for m in matched_fks}:
            add(DropForeignKey(old.name, ofk, schema), bt, oi)
    for oi, ofk, ni, nfk in matched_fks:
        if ofk.name != nfk.name and not _is_implicit_m2m(old):
            add(RenameForeignKey(old.name, ofk.name, nfk.name, schema), (bt, oi), (at, ni))

    matched_idx: dict[int, int] = {}
    for ni, nidx in enumerate(new.indexes):
        found = next(
            (i for i, o in enumerate(old.indexes) if i not in matched_idx and _indexes_match(o, nidx)), None
        )
        if found is None:
            add(CreateIndex(new.name, nidx, schema=schema), bt, at, ni, 0)
        else:
            matched_idx[found] = ni
            if old.indexes[found].name != nidx.name:
                add(RenameIndex(old.name, old.indexes[found].name, nidx.name, schema), bt, found, at, ni)
    for oi, oidx in enumerate(old.indexes):
        if oi not in matched_idx:
            add(DropIndex(old.name, oidx, schema), bt, oi)

    changes: list[TableChange] = []
    pk_columns_changed = (old.primary_key is None) != (new.primary_key is None) or (
        old.primary_key is not None
        and new.primary_key is not None
        and (
            old.primary_key.columns != new.primary_key.columns
            # Prisma re-creates the key around any type change of one of its columns.
            or any(_type_changed(old, new, name) for name in old.primary_key.columns)
        )
    )
    if old.primary_key is not None and pk_columns_changed:
        changes.append(DropPrimaryKey(old.primary_key))
    if old.primary_key and new.primary_key and old.primary_key.name != new.primary_key.name:
        changes.append(RenamePrimaryKey(old.primary_key.name, new.primary_key.name, old.primary_key.columns))
    # Prisma's differ finds dropped and added columns in a map ordered by column name (byte order), so
    # they come in name order; altered columns come in the order of the previous table.
    new_names = {c.name for c in new.columns}
    old_names = {c.name for c in old.columns}
    changes += [DropColumn(c) for c in _by_name(old.columns) if c.name not in new_names]
    changes += [AddColumn(c) for c in _by_name(new.columns) if c.name not in old_names]
    recreated: set[str] = set()
    for ocol in old.columns:
        ncol = new.column(ocol.name)
        if ncol is None:
            continue
        kinds, type_change = column_changes(ocol, ncol)
        if not kinds:
            continue
        if type_change == "not_castable":
            changes.append(DropAndRecreateColumn(ocol, ncol, kinds))
            recreated.add(ncol.name)
        else:
            changes.append(AlterColumn(ocol, ncol, kinds, type_change))
    if new.primary_key is not None and pk_columns_changed:
        changes.append(AddPrimaryKey(new.primary_key))
    if changes:
        add(AlterTable(old.name, changes, old, new, sequences, schema), bt, at)
    # Prisma re-creates the kept indexes that cover a dropped-and-recreated column.
    for ni in matched_idx.values():
        if recreated & set(new.indexes[ni].columns):
            add(CreateIndex(new.name, new.indexes[ni], after_recreate=True, schema=schema), bt, at, ni, 1)


def _by_name(columns: list[Column]) -> list[Column]:
    return sorted(columns, key=lambda c: c.name.encode("utf-8"))


def _type_changed(old: Table, new: Table, name: str) -> bool:
    oc, nc = old.column(name), new.column(name)
    return oc is not None and nc is not None and casts.column_type_change(oc, nc) is not None


def column_changes(old: Column, new: Column) -> tuple[list[ColumnChangeKind], TypeChange | None]:
    """What differs, in Prisma's order (arity, default, type, autoincrement), and the type change risk."""
    kinds: list[ColumnChangeKind] = []
    if old.is_array != new.is_array or (not old.is_array and old.nullable != new.nullable):
        kinds.append("arity")
    old_seq = old.default is not None and old.default.kind == "sequence"
    new_seq = new.default is not None and new.default.kind == "sequence"
    if not old_seq and not new_seq and not defaults_match(old, new):
        kinds.append("default")
    type_change = casts.column_type_change(old, new)
    if type_change is not None:
        kinds.append("type")
    if old_seq != new_seq:
        kinds.append("autoincrement")
    return kinds, type_change


def _fks_match(a: ForeignKey, b: ForeignKey, old: Table, new: Table) -> bool:
    # The referenced table is compared by name only, as Prisma's differ does: a referenced model moved to
    # another schema keeps its foreign key (and the DROP TABLE of its old place then fails, as Prisma's).
    if a.referenced_table != b.referenced_table or a.referenced_columns != b.referenced_columns:
        return False
    if a.columns != b.columns or (a.on_delete, a.on_update) != (b.on_delete, b.on_update):
        return False
    for name in a.columns:
        oc, nc = old.column(name), new.column(name)
        if oc is None or nc is None or casts.column_type_change(oc, nc) is not None:
            return False
    return True


def _indexes_match(a: Index, b: Index) -> bool:
    return a.same_shape(b)


def _is_implicit_m2m(table: Table) -> bool:
    return len(table.columns) == 2 and {c.name for c in table.columns} == {"A", "B"}


def _diff_enums(before: SqlSchema, after: SqlSchema, before_tables: list[Table], add: _Add) -> None:
    for bi, old in enumerate(before.enums):
        new = after.enum(old.name, old.schema)
        if new is None:
            continue
        added = [v for v in new.values if v not in old.values]
        removed = [v for v in old.values if v not in new.values]
        if not added and not removed:
            continue
        step = AlterEnum(old, new, added, removed, namespace=before.namespace)
        if removed:
            _fill_enum_rewrite(step, before_tables, after)
        add(step, bi)
    for ai, new in enumerate(after.enums):
        if before.enum(new.name, new.schema) is None:
            add(CreateEnum(new), ai)
    for bi, old in enumerate(before.enums):
        if after.enum(old.name, old.schema) is None:
            add(DropEnum(old), bi)


def _fill_enum_rewrite(step: AlterEnum, before_tables: list[Table], after: SqlSchema) -> None:
    name, schema = step.before.name, step.before.schema

    def uses(col: Column | None, enum: str) -> bool:
        return (
            col is not None
            and col.is_enum
            and (col.enum_schema, col.type) == (schema, enum)
            and col.default is not None
        )

    for table in before_tables:
        new_table = after.table(table.name, table.schema)
        for col in _by_name(table.columns):
            if not uses(col, name):
                continue
            step.defaults_dropped.append((_key(table), col.name))
            new_col = new_table.column(col.name) if new_table else None
            if new_col is not None and uses(new_col, step.after.name):
                assert new_col.default is not None
                step.defaults_reinstalled.append((_key(table), col.name, new_col.default.sql))
    for table in after.tables:
        for col in table.columns:
            if col.is_enum and (col.enum_schema, col.type) == (schema, step.after.name):
                step.columns.append((_key(table), col.name, col.is_array))
